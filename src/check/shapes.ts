// Checking: one node's output shape (batch dimension null) and parameter counts, exactly as Keras counts them,
// by its op's rule (src/ops/), plus the limit no op may pass: E309 where a weight or the output of one sample
// would exceed what one tensor can hold (such a model would pass here and crash when training allocates).
import { diagnostic } from "../diagnostics/index.ts";
import type { Layer } from "../ir/schema.ts";
import { activationOptionError } from "../ops/activation.ts";
import { opOf } from "../ops/index.ts";
import { at, type InferInput, type LayerResult, type Params, type Shape } from "../ops/op.ts";
import { MAX_TENSOR_SIZE, sizeOf } from "../util/shape.ts";

export type { InferInput, LayerResult, Params, Shape };

/** Infers one node from its inputs' shapes (in the order of `node.inputs`). */
export function inferNode(node: Layer, inputs: InferInput[]): LayerResult {
  const op = opOf(node);
  const misplaced = activationOptionError(node, op.activation?.(node) ?? "linear");
  if (misplaced) return { error: misplaced };
  const result = op.infer(node, inputs);
  if ("error" in result) return result;
  const perSample = sizeOf(result.shape.slice(1));
  const weights = op.kerasWeights(
    node,
    inputs.map((x) => x.shape.slice(1) as number[]),
  );
  const kernel = Math.max(0, ...weights.map((w) => sizeOf(w.shape)));
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
          layer: node.name,
          what,
          count: count.toLocaleString("en-US"),
          limit: MAX_TENSOR_SIZE.toLocaleString("en-US"),
        },
        at(node),
      ),
    };
  }
  return result;
}

/** A chain's node from its input shape: inferNode with one input (kept for the API: `inferLayer`). */
export const inferLayer = (layer: Layer, input: Shape, previous?: Layer): LayerResult =>
  inferNode(layer, [previous ? { shape: input, from: previous } : { shape: input }]);
