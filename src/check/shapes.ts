// Checking: each layer's output shape (batch dimension null) and parameter counts, exactly as Keras counts
// them. Takes one IR layer and its input shape; gives the output shape and params, or the diagnostic (E302,
// E304) that says why the layer cannot take that input.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import type { Layer } from "../ir/schema.ts";
import { formatShape, MAX_TENSOR_SIZE, sizeOf } from "../util/shape.ts";

export type Shape = (number | null)[];
export interface Params {
  trainable: number;
  nonTrainable: number;
}

const none: Params = { trainable: 0, nonTrainable: 0 };

export type LayerResult = { shape: Shape; params: Params } | { error: Diagnostic };

/** Why an image layer got the wrong rank, in the words of the likely fix. */
function imageHint(input: Shape, previous: Layer | undefined): string {
  if (input.length === 3 && previous?.op === "input") {
    return `use 'input ${input.slice(1).join("x")}x1' for images (height x width x channels)`;
  }
  if (input.length === 3) return "images are [batch, height, width, channels]";
  if (input.length === 2 && previous?.op === "flatten") {
    return "the 'flatten' before it made each sample a vector: put flatten after the convolutions and pooling";
  }
  return "it needs images of shape [batch, height, width, channels]";
}

/** Output size of a window over one axis (Keras' conv_output_length). */
function windowOutput(size: number, window: number, stride: number, padding: "valid" | "same"): number {
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;
}

/**
 * Infers one layer. `previous` (the layer before) only improves hints. E309 where a weight or the output of one
 * sample would exceed what one tensor can hold: such a model would pass here and crash when training allocates.
 */
export function inferLayer(layer: Layer, input: Shape, previous?: Layer): LayerResult {
  const result = inferShape(layer, input, previous);
  if ("error" in result) return result;
  const channels = input[input.length - 1] ?? 1;
  const kernel =
    layer.op === "dense"
      ? channels * layer.units
      : layer.op === "conv2d"
        ? layer.kernelSize[0] * layer.kernelSize[1] * channels * layer.filters
        : 0;
  const perSample = sizeOf(result.shape.slice(1));
  const [what, count] =
    kernel > MAX_TENSOR_SIZE ? ["its kernel", kernel] : ["each sample's output", perSample];
  if (
    count > MAX_TENSOR_SIZE ||
    !Number.isSafeInteger(result.params.trainable + result.params.nonTrainable)
  ) {
    return {
      error: diagnostic(
        "E309",
        {
          layer: layer.name,
          what,
          count: count.toLocaleString("en-US"),
          limit: MAX_TENSOR_SIZE.toLocaleString("en-US"),
        },
        layer.span ? { span: layer.span } : {},
      ),
    };
  }
  return result;
}

function inferShape(layer: Layer, input: Shape, previous?: Layer): LayerResult {
  const span = layer.span ? { span: layer.span } : {};
  const wrongRank = (expected: string, hint: string): LayerResult => ({
    error: diagnostic(
      "E302",
      { op: layer.op, expected, got: `rank-${input.length} ${formatShape(input)}`, hint },
      span,
    ),
  });
  const channels = input[input.length - 1] ?? 1;
  switch (layer.op) {
    case "input":
      return { shape: [null, ...layer.shape], params: none };
    case "flatten":
      return { shape: [null, sizeOf(input.slice(1))], params: none };
    case "dense": {
      if (input.length !== 2) {
        return wrongRank("rank-2 [batch, features]", input.length > 2 ? "add 'flatten' before it" : "");
      }
      const params = channels * layer.units + (layer.useBias ? layer.units : 0);
      return { shape: [null, layer.units], params: { trainable: params, nonTrainable: 0 } };
    }
    case "conv2d":
    case "maxpool":
    case "avgpool": {
      if (input.length !== 4) {
        return wrongRank("rank-4 [batch, height, width, channels]", imageHint(input, previous));
      }
      const [h, w] = [input[1]!, input[2]!];
      const window = layer.op === "conv2d" ? layer.kernelSize : layer.poolSize;
      const out = [0, 1].map((i) => windowOutput([h, w][i]!, window[i]!, layer.strides[i]!, layer.padding));
      const filters = layer.op === "conv2d" ? layer.filters : channels;
      const shape: Shape = [null, out[0]!, out[1]!, filters];
      if (out.some((d) => d < 1)) {
        const detail = `its ${window.join("x")} window does not fit the ${h}x${w} input with padding=${layer.padding}; use padding=same or a smaller window`;
        return { error: diagnostic("E304", { op: layer.op, got: formatShape(shape), detail }, span) };
      }
      if (layer.op !== "conv2d") return { shape, params: none };
      const params = window[0]! * window[1]! * channels * layer.filters + (layer.useBias ? layer.filters : 0);
      return { shape, params: { trainable: params, nonTrainable: 0 } };
    }
    case "globalavgpool":
      if (input.length !== 4)
        return wrongRank("rank-4 [batch, height, width, channels]", imageHint(input, previous));
      return { shape: [null, channels], params: none };
    case "batchnorm": {
      // gamma (scale) and beta (center) train; the moving mean and variance do not.
      const trainable = channels * ((layer.scale ? 1 : 0) + (layer.center ? 1 : 0));
      return { shape: input, params: { trainable, nonTrainable: 2 * channels } };
    }
    case "layernorm":
      return {
        shape: input,
        params: { trainable: channels * ((layer.scale ? 1 : 0) + (layer.center ? 1 : 0)), nonTrainable: 0 },
      };
    case "activation":
    case "dropout":
      return { shape: input, params: none };
  }
}
