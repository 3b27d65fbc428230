// What conv2d and the poolings share: a window sliding over NHWC images (two spatial axes) or over
// [batch, steps, channels] sequences (one), and the shape it gives.
import { diagnostic } from "../diagnostics/index.ts";
import { formatShape } from "../util/shape.ts";
import {
  at,
  imageHint,
  sequenceHint,
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
 * [batch, ...spatial', channels] of a window over [batch, ...spatial, channels] input (as many spatial axes as
 * the window has: two for images, one for sequences), or E302 (wrong rank) / E304 (the window leaves nothing).
 * `channels` is the output's (a conv's filters, a pooling's input channels).
 */
export function windowShape(
  node: NodeLike & { strides: readonly number[]; padding: "valid" | "same" },
  x: InferInput,
  window: readonly number[],
  channels: (inputChannels: number) => number,
): { shape: Shape } | Extract<LayerResult, { error: unknown }> {
  const input = x.shape;
  const axes = window.length;
  if (input.length !== axes + 2) {
    const [expected, hint] =
      axes === 1
        ? ["rank-3 [batch, steps, channels]", sequenceHint(x)]
        : ["rank-4 [batch, height, width, channels]", imageHint(x)];
    return wrongRank(node, input, expected, hint) as { error: ReturnType<typeof diagnostic> };
  }
  const sizes = input.slice(1, -1) as number[];
  const out = sizes.map((size, i) => windowOutput(size, window[i]!, node.strides[i]!, node.padding));
  const shape: Shape = [null, ...out, channels(input.at(-1)!)];
  if (out.some((d) => d < 1)) {
    const detail = `its ${window.join("x")} window does not fit the ${sizes.join("x")} input with padding=${node.padding}; use padding=same or a smaller window`;
    return { error: diagnostic("E304", { op: node.op, got: formatShape(shape), detail }, at(node)) };
  }
  return { shape };
}
