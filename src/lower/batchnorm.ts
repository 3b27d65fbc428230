// Lowering: an IR batchnorm layer -> its tfjs computation in training and inference mode, and the moving-average
// rule. The formula, defaults and conventions live in ONE place, the doc comment of `batchNormTraining`; tests
// pin them against a float64 PyTorch reference and with a large epsilon (test/lower/batchnorm.test.ts).
import * as tf from "@tensorflow/tfjs-core";
import { channelAffineSimd } from "../runtime/simd-ops.ts";
import "./register-gradients.ts";
import type { LayerOf } from "../ir/schema.ts";

export type BatchNormLayer = LayerOf<"batchnorm">;

/** A batchnorm layer's weights; gamma / beta are absent when `scale` / `center` is false (also in training). */
export interface BatchNormWeights {
  gamma?: tf.Variable;
  beta?: tf.Variable;
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
}

/** What one training step measured in a batchnorm layer: the input to the moving-average update. */
export interface BatchStatistics {
  mean: tf.Tensor1D;
  /** Biased (divide by m). */
  variance: tf.Tensor1D;
  /** m: values per channel in the batch (batch size times spatial positions). */
  count: number;
}

/** Every axis but the last (channel) one: NC -> [0], NHWC -> [0, 1, 2]. */
export const reductionAxes = (rank: number): number[] => Array.from({ length: rank - 1 }, (_, i) => i);

/**
 * Batch normalization over the last (channel) axis, NHWC, Keras semantics.
 *
 * Training (this function): with m = values per channel in the batch (batch x spatial positions),
 *     mean = sum(x) / m                    over every axis but the last
 *     var  = sum((x - mean)^2) / m         (biased)
 *     y    = gamma * (x - mean) / sqrt(var + epsilon) + beta
 * Gradients flow through mean and var (they are functions of the batch). gamma is dropped when scale=false and
 * beta when center=false, in training as in inference (tfjs-layers' own layer crashes there: tfjs issue 2868).
 * Note sqrt(var + epsilon), not sqrt(var) + epsilon (tfjs-layers' doc comment says the latter, its code does
 * the former, as Keras and PyTorch do).
 *
 * Moving statistics (`nextMovingStatistics`), Keras convention, after every training step:
 *     moving_mean     = momentum * moving_mean     + (1 - momentum) * mean
 *     moving_variance = momentum * moving_variance + (1 - momentum) * var'
 * with var' the biased batch variance (Keras 3, tfjs-layers) or, with `variance: "unbiased"`, var * m / (m - 1)
 * (PyTorch, fused tf.keras). momentum is the weight KEPT (Keras default 0.99; PyTorch's 0.1 is Keras' 0.9).
 * Initial values: gamma 1, beta 0, moving_mean 0, moving_variance 1; epsilon default 1e-3.
 *
 * Inference (`batchNormInference`) never uses the batch: y = gamma * (x - mu) / sqrt(sigma2 + epsilon) + beta
 * with mu, sigma2 the population statistics held in moving_mean / moving_variance. How they get there is
 * `train.bnstats`:
 *   - "ema": the moving averages above.
 *   - "exact" (nnc's default): after training, and before every validation, the mean and variance over the whole
 *     training set (or `bnstats.sample` samples of it) are recomputed layer by layer in network order, each
 *     layer's input computed with the earlier batchnorm layers already in inference mode, and written into
 *     moving_mean / moving_variance, so a saved model carries them (src/train/population-stats.ts).
 *   Why exact by default: the moving averages mix statistics of weights that no longer exist (momentum 0.99
 *   remembers ~100 steps), start from (0, 1), and lag most in exactly the short or large-batch runs people
 *   compare; "population statistics over the training set" is what batch normalization promises at inference,
 *   and computing them costs one inference pass per batchnorm layer per epoch.
 *
 * A channel with one value per batch (a dense batchnorm at batch size 1) is never normalized: its variance is 0
 * and y would be beta whatever x is. The data iterator merges a final singleton batch into the one before it;
 * this function asserts that the case cannot arise.
 */
export function batchNormTraining(
  x: tf.Tensor,
  w: BatchNormWeights,
  layer: BatchNormLayer,
): { y: tf.Tensor; stats: BatchStatistics } {
  const channels = x.shape.at(-1)!;
  const count = x.size / channels;
  if (count < 2) {
    throw new Error(
      `internal: batchnorm '${layer.name}' got a batch with ${count} value per channel; ` +
        "the trainer must never normalize a batch of one",
    );
  }
  const { mean, variance } = tf.moments(x, reductionAxes(x.rank));
  const inv = tf.rsqrt(tf.add(variance, layer.epsilon));
  const factor = w.gamma ? tf.mul(w.gamma, inv) : inv;
  const centered = tf.mul(tf.sub(x, mean), factor);
  const y = w.beta ? tf.add(centered, w.beta) : centered;
  return { y, stats: { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, count } };
}

/** Inference: population statistics from moving_mean / moving_variance (see batchNormTraining). */
export function batchNormInference(x: tf.Tensor, w: BatchNormWeights, layer: BatchNormLayer): tf.Tensor {
  const inv = tf.rsqrt(tf.add(w.movingVariance, layer.epsilon));
  const factor = w.gamma ? tf.mul(w.gamma, inv) : inv;
  // y = x * factor + (beta - mu * factor): two per-element ops instead of three.
  const shift = tf.sub(w.beta ?? tf.scalar(0), tf.mul(w.movingMean, factor));
  // Outside a gradient tape (evaluation, prediction, the exact statistics' passes) one SIMD pass on wasm, where
  // the multiply and add broadcasting [C] are generic loops (convnet-bn's forward over 334 samples: 7.8 ms of
  // its 39 in them). Under a tape the tf ops, which have gradients.
  const fast = tf.engine().isTapeOn() ? undefined : channelAffineSimd(x, factor, { shift });
  return fast ?? tf.add(tf.mul(x, factor), shift);
}

/** One batchnorm layer's mean and variance per channel, as plain values. */
export interface ChannelStatistics {
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * The Keras moving-average rule (see batchNormTraining), channel by channel: writes into `next` the moving
 * statistics after one step from `moving` and the step's batch statistics (`count` values per channel). The one
 * implementation of the rule: the trainer (src/train/step.ts) runs it for every layer over the backend's memory.
 */
export function nextMovingStatistics(
  layer: BatchNormLayer,
  batch: ChannelStatistics,
  count: number,
  moving: ChannelStatistics,
  next: ChannelStatistics,
): void {
  const keep = layer.momentum;
  const correction = layer.variance === "unbiased" ? count / (count - 1) : 1;
  for (let c = 0; c < batch.mean.length; c++) {
    next.mean[c] = keep * moving.mean[c]! + (1 - keep) * batch.mean[c]!;
    next.variance[c] = keep * moving.variance[c]! + (1 - keep) * batch.variance[c]! * correction;
  }
}
