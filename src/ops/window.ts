// What conv2d and the poolings share: a 2-D window sliding over NHWC input, and the shape it gives.
import { diagnostic } from "../diagnostics/index.ts";
import { formatShape } from "../util/shape.ts";
import {
  at,
  imageHint,
  wrongRank,
  type InferInput,
  type LayerResult,
  type NodeLike,
  type Shape,
} from "./op.ts";

/** Output size of a window over one axis (Keras' conv_output_length). */
export function windowOutput(
  size: number,
  window: number,
  stride: number,
  padding: "valid" | "same",
): number {
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;
}

/**
 * [batch, H', W', channels] of a window over NHWC input, or E302 (not images) / E304 (the window leaves
 * nothing). `channels` is the output's (a conv's filters, a pooling's input channels).
 */
export function windowShape(
  node: NodeLike & { strides: [number, number]; padding: "valid" | "same" },
  x: InferInput,
  window: [number, number],
  channels: (inputChannels: number) => number,
): { shape: Shape } | Extract<LayerResult, { error: unknown }> {
  const input = x.shape;
  if (input.length !== 4) {
    return wrongRank(node, input, "rank-4 [batch, height, width, channels]", imageHint(x)) as {
      error: ReturnType<typeof diagnostic>;
    };
  }
  const [h, w] = [input[1]!, input[2]!];
  const out = [0, 1].map((i) => windowOutput([h, w][i]!, window[i]!, node.strides[i]!, node.padding));
  const shape: Shape = [null, out[0]!, out[1]!, channels(input[3]!)];
  if (out.some((d) => d < 1)) {
    const detail = `its ${window.join("x")} window does not fit the ${h}x${w} input with padding=${node.padding}; use padding=same or a smaller window`;
    return { error: diagnostic("E304", { op: node.op, got: formatShape(shape), detail }, at(node)) };
  }
  return { shape };
}
