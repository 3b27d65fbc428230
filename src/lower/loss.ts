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
  /** Mean loss over the batch and number of correct predictions, from the network's output (logits if asked). */
  compute(output: tf.Tensor, labels: tf.Tensor1D): { loss: tf.Scalar; correct: tf.Scalar };
}

/** The loss a model trains with: the declared type, or `auto` resolved for its output (src/ir/loss-rules.ts). */
export const modelLoss = (model: Model, declared: Loss): Loss => ({ type: lossTypeFor(model, declared) });

/**
 * Labels are class indices (int32). Outputs of more than one unit compare against one-hot labels; a single
 * unit against the label value itself (binary tasks).
 */
export function lowerLoss(net: Network, loss: Loss): LoweredLoss {
  const activation = net.outputActivation;
  const canLogits = net.logitsLayer >= 0;
  const crossEntropy = loss.type !== "mse";
  // Logits exist either because the output is linear, or because the network can stop before its activation.
  const probabilities = activation === "softmax" || activation === "sigmoid";
  const useLogits = crossEntropy && probabilities && canLogits;
  const outputIsLogits = useLogits || (crossEntropy && activation === "linear");

  const target = (out: tf.Tensor, labels: tf.Tensor1D): tf.Tensor => {
    const units = out.shape.at(-1)!;
    return units === 1 ? tf.reshape(tf.cast(labels, "float32"), [-1, 1]) : tf.oneHot(labels, units);
  };

  const compute = (out: tf.Tensor, labels: tf.Tensor1D) => {
    const units = out.shape.at(-1)!;
    let value: tf.Scalar;
    if (loss.type === "sparse_categorical_crossentropy" || loss.type === "categorical_crossentropy") {
      const onehot = tf.oneHot(labels, units);
      const logp = outputIsLogits ? tf.logSoftmax(out) : tf.log(tf.clipByValue(out, CLIP, 1 - CLIP));
      value = tf.neg(tf.div(tf.sum(tf.mul(onehot, logp)), out.shape[0]!)) as tf.Scalar;
    } else if (loss.type === "binary_crossentropy") {
      const y = target(out, labels);
      if (outputIsLogits) {
        // max(z, 0) - z y + log(1 + exp(-|z|)): the stable form of -y log s(z) - (1-y) log(1 - s(z)).
        value = tf.mean(
          tf.add(tf.sub(tf.relu(out), tf.mul(out, y)), tf.log1p(tf.exp(tf.neg(tf.abs(out))))),
        ) as tf.Scalar;
      } else {
        const p = tf.clipByValue(out, CLIP, 1 - CLIP);
        value = tf.neg(
          tf.mean(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log1p(tf.neg(p))))),
        ) as tf.Scalar;
      }
    } else {
      value = tf.mean(tf.squaredDifference(out, target(out, labels)));
    }
    return { loss: value, correct: countCorrect(out, labels, outputIsLogits, activation === "sigmoid") };
  };
  return { logits: useLogits, compute };
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
