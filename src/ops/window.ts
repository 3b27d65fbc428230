// What the convolutions and the poolings share: a 2-D window sliding over NHWC input, or a 1-D one over
// [batch, steps, channels], and the shape it gives.
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

/** Why a sequence layer got the wrong rank, in the words of the likely fix. */
export function sequenceHint(input: InferInput): string {
  const shape = input.shape;
  if (shape.length === 2 && input.from?.op === "input") {
    return `use 'input ${shape[1]}x1' for a series of ${shape[1]} single values (steps x channels)`;
  }
  if (shape.length === 4)
    return "images are rank 4: conv1d slides over [batch, steps, channels] (conv2d over images)";
  return "it needs sequences of shape [batch, steps, channels]";
}

/**
 * [batch, steps', channels] of a 1-D window over [batch, steps, channels] input, or E302 (not sequences) /
 * E304 (the window leaves nothing). `window` is the extent the window covers (a dilated kernel's (K-1)*D+1).
 */
export function window1dShape(
  node: NodeLike & { strides: number; padding: "valid" | "same" },
  x: InferInput,
  window: number,
  channels: (inputChannels: number) => number,
): { shape: Shape } | Extract<LayerResult, { error: unknown }> {
  const input = x.shape;
  if (input.length !== 3) {
    return wrongRank(node, input, "rank-3 [batch, steps, channels]", sequenceHint(x)) as {
      error: ReturnType<typeof diagnostic>;
    };
  }
  const steps = windowOutput(input[1]!, window, node.strides, node.padding);
  const shape: Shape = [null, steps, channels(input[2]!)];
  if (steps < 1) {
    const detail = `its window of ${window} steps does not fit the ${input[1]} steps with padding=${node.padding}; use padding=same or a smaller window`;
    return { error: diagnostic("E304", { op: node.op, got: formatShape(shape), detail }, at(node)) };
  }
  return { shape };
}
