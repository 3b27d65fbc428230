// Training: a network + a split -> loss and accuracy in inference mode (population statistics, no dropout),
// over sequential batches copied into one reused buffer (never tf.gather/tf.slice of a whole-split tensor).
import * as tf from "@tensorflow/tfjs-core";
import { evaluationBatches } from "../data/batches.ts";
import type { Split } from "../data/types.ts";
import type { LoweredLoss } from "../lower/loss.ts";
import type { Network } from "../lower/network.ts";
import { l2Penalties, penaltyValue } from "../lower/regularizers.ts";
import { evalBatchOf } from "../ir/training-memory.ts";
import type { Evaluation } from "../runtime/types.ts";
import { sizeOf } from "../util/shape.ts";

export { EVAL_BATCH, EVAL_BATCH_VALUES, evalBatchOf } from "../ir/training-memory.ts";

export const sampleSizeOf = (net: Network): number => sizeOf(net.inputShape);

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
  // Keras' evaluation loss includes the regularizers' penalty, as the training loss does.
  const penalty = penaltyValue(l2Penalties(net));
  return {
    loss: samples ? lossSum / samples + penalty : NaN,
    accuracy: samples ? correct / samples : NaN,
    samples,
  };
}
