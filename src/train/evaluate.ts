// Training: a network + a split -> loss and accuracy in inference mode (population statistics, no dropout),
// over sequential batches copied into one reused buffer (never tf.gather/tf.slice of a whole-split tensor).
import * as tf from "@tensorflow/tfjs-core";
import { evaluationBatches } from "../data/batches.ts";
import type { Split } from "../data/types.ts";
import type { Model } from "../ir/schema.ts";
import type { LoweredLoss } from "../lower/loss.ts";
import type { Network } from "../lower/network.ts";
import type { Evaluation } from "../runtime/types.ts";
import { sizeOf } from "../util/shape.ts";

/** Inference batches are larger than training ones: no gradients to keep, fewer kernel dispatches. */
export const EVAL_BATCH = 1000;
/**
 * Values one layer's output may hold in an inference batch: a convnet's activations are large per sample
 * (convnet-bn's first: 28 x 28 x 16), and batches of 1000 grew the wasm heap (which never shrinks) by hundreds of
 * MB during evaluation and the exact batchnorm statistics.
 */
export const EVAL_BATCH_VALUES = 4 * 1024 * 1024;

export const sampleSizeOf = (net: Network): number => sizeOf(net.inputShape);

/**
 * The inference batch for a checked model: EVAL_BATCH samples, fewer where a layer's output (the input's
 * included) would pass EVAL_BATCH_VALUES.
 */
export function evalBatchOf(model: Model): number {
  let widest = 1;
  for (const layer of model.layers) {
    const shape = (layer.op === "input" ? layer.shape : layer.outputShape?.slice(1)) as number[] | undefined;
    if (shape && shape.every((d) => typeof d === "number")) widest = Math.max(widest, sizeOf(shape));
  }
  return Math.max(1, Math.min(EVAL_BATCH, Math.floor(EVAL_BATCH_VALUES / widest)));
}

export function evaluateSplit(
  net: Network,
  loss: LoweredLoss,
  split: Split,
  batchSize = evalBatchOf(net.model),
): Evaluation {
  let lossSum = 0;
  let correct = 0;
  for (const batch of evaluationBatches(split, { batchSize, sampleSize: sampleSizeOf(net) })) {
    const result = tf.tidy(() => {
      const x = tf.tensor(batch.x, [batch.size, ...net.inputShape], "float32");
      const y = tf.tensor1d(batch.y, "int32");
      const out = net.forward(x, { training: false, logits: loss.logits });
      const r = loss.compute(out, y);
      return tf.stack([r.loss, r.correct]);
    });
    const [l, c] = result.dataSync() as Float32Array;
    result.dispose();
    lossSum += l! * batch.size;
    correct += c!;
  }
  const samples = split.count;
  return { loss: samples ? lossSum / samples : NaN, accuracy: samples ? correct / samples : NaN, samples };
}
