// Lowering: the resolved IR loss + a network's output -> the loss and the number of correct predictions of a
// batch. Cross-entropies read the output layer's logits whenever the network can give them (stable log-softmax
// and BCE-from-logits), so a softmax output can never be fed to a from_logits loss (the notebook's mistake).
import * as tf from "@tensorflow/tfjs-core";
import { lossTypeFor } from "../ir/loss-rules.ts";
import type { Loss, Model } from "../ir/schema.ts";
import type { Network } from "./network.ts";

// Keras clips probabilities to [epsilon, 1 - epsilon] before taking logs when it has no logits.
const CLIP = 1e-7;

export interface LoweredLoss {
  /** Ask the network for its output layer's logits (forward option `logits`). */
  readonly logits: boolean;
  /** Keras' label_smoothing (0: none): the cross-entropies' targets, (1 - s) onehot + s / units, binary y (1 - s) + s / 2. */
  readonly labelSmoothing: number;
  /** Per-sample weight by label (Keras' class_weight as sample weights), or undefined for none. */
  readonly classWeights?: Float32Array;
  /**
   * Loss over the batch, sum(w_i loss_i) / rows (the mean without class weights: Keras' sum_over_batch_size),
   * and the number of correct predictions, from the network's output (logits if asked).
   */
  compute(output: tf.Tensor, labels: tf.Tensor1D): { loss: tf.Scalar; correct: tf.Scalar };
}

/** The loss a model trains with: the declared type, or `auto` resolved for its output (src/ir/loss-rules.ts). */
export const modelLoss = (model: Model, declared: Loss): Loss => ({
  type: lossTypeFor(model, declared),
  ...(declared.labelSmoothing ? { labelSmoothing: declared.labelSmoothing } : {}),
});

/**
 * Labels are class indices (int32). Outputs of more than one unit compare against one-hot labels; a single
 * unit against the label value itself (binary tasks). `classWeights`: a weight per class index for the training
 * loss (src/train/class-weights.ts); evaluation lowers the loss without them, as Keras weighs only fit's data.
 */
export function lowerLoss(net: Network, loss: Loss, classWeights?: Float32Array): LoweredLoss {
  const activation = net.outputActivation;
  const canLogits = net.logitsLayer >= 0;
  const crossEntropy = loss.type !== "mse";
  // Logits exist either because the output is linear, or because the network can stop before its activation.
  const probabilities = activation === "softmax" || activation === "sigmoid";
  const useLogits = crossEntropy && probabilities && canLogits;
  const outputIsLogits = useLogits || (crossEntropy && activation === "linear");
  const smoothing = crossEntropy ? (loss.labelSmoothing ?? 0) : 0;

  const target = (out: tf.Tensor, labels: tf.Tensor1D): tf.Tensor => {
    const units = out.shape.at(-1)!;
    return units === 1 ? tf.reshape(tf.cast(labels, "float32"), [-1, 1]) : tf.oneHot(labels, units);
  };
  /** Per-sample losses [rows] reduced as Keras does: weighted by class when asked, over the batch's rows. */
  const reduce = (perSample: tf.Tensor, labels: tf.Tensor1D, rows: number): tf.Scalar => {
    if (!classWeights) return tf.div(tf.sum(perSample), rows) as tf.Scalar;
    const w = tf.gather(tf.tensor1d(classWeights, "float32"), labels);
    return tf.div(tf.sum(tf.mul(perSample, w)), rows) as tf.Scalar;
  };

  const compute = (out: tf.Tensor, labels: tf.Tensor1D) => {
    const units = out.shape.at(-1)!;
    const rows = out.shape[0]!;
    let value: tf.Scalar;
    if (loss.type === "sparse_categorical_crossentropy" || loss.type === "categorical_crossentropy") {
      const onehot = tf.oneHot(labels, units);
      const logp = outputIsLogits ? tf.logSoftmax(out) : tf.log(tf.clipByValue(out, CLIP, 1 - CLIP));
      if (smoothing === 0 && !classWeights) {
        value = tf.neg(tf.div(tf.sum(tf.mul(onehot, logp)), rows)) as tf.Scalar;
      } else {
        // keras/src/losses/losses.py categorical_crossentropy: y_true * (1 - s) + s / num_classes.
        const t = smoothing === 0 ? onehot : tf.add(tf.mul(onehot, 1 - smoothing), smoothing / units);
        value = reduce(tf.neg(tf.sum(tf.mul(t, logp), -1)), labels, rows);
      }
    } else if (loss.type === "binary_crossentropy") {
      let y = target(out, labels);
      // keras/src/losses/losses.py binary_crossentropy: y_true * (1 - s) + 0.5 * s.
      if (smoothing !== 0) y = tf.add(tf.mul(y, 1 - smoothing), 0.5 * smoothing);
      let elementwise: tf.Tensor;
      if (outputIsLogits) {
        // max(z, 0) - z y + log(1 + exp(-|z|)): the stable form of -y log s(z) - (1-y) log(1 - s(z)).
        elementwise = tf.add(tf.sub(tf.relu(out), tf.mul(out, y)), tf.log1p(tf.exp(tf.neg(tf.abs(out)))));
      } else {
        const p = tf.clipByValue(out, CLIP, 1 - CLIP);
        elementwise = tf.neg(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log1p(tf.neg(p)))));
      }
      value = classWeights
        ? reduce(tf.mean(elementwise, -1), labels, rows)
        : (tf.mean(elementwise) as tf.Scalar);
    } else {
      const squared = tf.squaredDifference(out, target(out, labels));
      value = classWeights ? reduce(tf.mean(squared, -1), labels, rows) : (tf.mean(squared) as tf.Scalar);
    }
    return { loss: value, correct: countCorrect(out, labels, outputIsLogits, activation === "sigmoid") };
  };
  return {
    logits: useLogits,
    labelSmoothing: smoothing,
    ...(classWeights ? { classWeights } : {}),
    compute,
  };
}

function countCorrect(out: tf.Tensor, labels: tf.Tensor1D, logits: boolean, sigmoid: boolean): tf.Scalar {
  const units = out.shape.at(-1)!;
  let predicted: tf.Tensor;
  if (units > 1) predicted = tf.argMax(out, -1);
  else {
    const flat = tf.reshape(out, [-1]);
    // One unit: a probability or logit thresholds at 0.5 / 0; a regression output rounds to the nearest class.
    predicted =
      sigmoid || logits
        ? tf.cast(tf.greater(flat, logits ? 0 : 0.5), "int32")
        : tf.cast(tf.round(flat), "int32");
  }
  return tf.sum(tf.cast(tf.equal(predicted, labels), "float32"));
}
