// Kernel of op `batchnorm`: batch normalization over the last (channel) axis, Keras conventions. The formulas
// (training, inference, moving averages, population statistics) are written once, on batchNormTraining
// (src/lower/batchnorm.ts); here: the node's weights, its forward, and its stage of the compiled step with the
// closed-form gradient, a relu that is its one consumer fused in where the per-channel passes run.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import {
  batchNormInference,
  batchNormTraining,
  reductionAxes,
  type BatchNormWeights,
  type BatchStatistics,
} from "../lower/batchnorm.ts";
import { channelAffine, channelCentered, channelMeans, channelMeansOfProduct } from "../lower/channel-ops.ts";
import { simdChannels } from "../runtime/simd-ops.ts";
import type { Backward, BatchNormNode, KernelDefinition, StageResult, StepContext } from "./kernel.ts";

export const batchnorm: KernelDefinition<LayerOf<"batchnorm">> = {
  op: "batchnorm",
  absorbsInputBias: true,
  lower(node, ctx) {
    const channels = [ctx.inputShapes[0]!.at(-1)!];
    // Keras' weight order: gamma, beta, moving_mean, moving_variance.
    const gamma = node.scale ? ctx.filled("gamma", channels, 1, true) : undefined;
    const beta = node.center ? ctx.filled("beta", channels, 0, true) : undefined;
    const weights: BatchNormWeights = {
      ...(gamma ? { gamma } : {}),
      ...(beta ? { beta } : {}),
      movingMean: ctx.filled("moving_mean", channels, 0, false),
      movingVariance: ctx.filled("moving_variance", channels, 1, false),
    };
    const absorbed = ctx.absorbedInputBias;
    const bn: BatchNormNode = {
      index: ctx.index,
      layer: node,
      weights,
      ...(absorbed ? { absorbedBias: absorbed } : {}),
    };
    return {
      batchNorm: bn,
      forward([x], o) {
        if (!o.training) return batchNormInference(x!, weights, node);
        const { y, stats } = batchNormTraining(x!, weights, node);
        // The batch mean of (x + bias): what the moving mean would have seen had the bias been added.
        const mean = absorbed ? (tf.add(stats.mean, absorbed) as tf.Tensor1D) : stats.mean;
        o.bnStats?.push({ node: bn, stats: { ...stats, mean } });
        return y;
      },
      stage({ onlyConsumer }) {
        // batchnorm -> relu: the per-channel-pass form applies the relu in its last pass, and its derivative in
        // the backward's (a relu is never the logits node: that is a softmax or sigmoid). Only where the relu is
        // the one consumer: another would need the values before it. That form serves NHWC always, and [N, C]
        // where the passes are SIMD kernels (wasm: the BN MLP's step at batch 32 0.75 -> 0.66 ms, at 512
        // 10.8 -> 8.4); elsewhere [N, C] takes tf's kernels.
        const relu = onlyConsumer?.op === "activation" && onlyConsumer.activation === "relu";
        return ([x], ctx) =>
          x!.rank === 4 || simdChannels(x!.shape.at(-1)!)
            ? channelPassBatchNormStage(x!, bn, ctx, relu)
            : denseBatchNormStage(x!, bn, ctx);
      },
    };
  },
};

/** Values per channel in the whole batch, from this share's x; a batch of one value per channel is refused. */
function countOf(x: tf.Tensor, bn: BatchNormNode, ctx: StepContext): number {
  const { shard } = ctx;
  const count = ((x.size / x.shape.at(-1)!) * shard.total) / shard.rows;
  if (count < 2)
    throw new Error(`internal: batchnorm '${bn.layer.name}' got a batch of one value per channel`);
  return count;
}

/**
 * Batch normalization in training mode (formula: src/lower/batchnorm.ts) with its closed-form gradient:
 *   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma / (m sqrt(var + eps)) * (m dy - dbeta - xhat dgamma)
 * with sums over the batch, m values per channel: for [N, C] where the SIMD passes do not apply (not wasm, or
 * channels not a multiple of 4), since tfjs' own kernels are small there and fewer kernels dispatched is what
 * counts (the tf-op form of the per-channel passes below made the BN MLP's step at batch 32 ~30% slower: 158
 * kernels instead of 96).
 */
function denseBatchNormStage(x: tf.Tensor, bn: BatchNormNode, ctx: StepContext): StageResult {
  const { layer, weights, absorbedBias: absorbed } = bn;
  const axes = reductionAxes(x.rank);
  const { shard } = ctx;
  const count = countOf(x, bn, ctx);
  const local = tf.moments(x, axes);
  const { mean, variance } = shard.moments(local.mean, local.variance);
  const inv = tf.rsqrt(tf.add(variance, layer.epsilon));
  const xhat = tf.mul(tf.sub(x, mean), inv);
  let y = weights.gamma ? tf.mul(xhat, weights.gamma) : xhat;
  if (weights.beta) y = tf.add(y, weights.beta);
  // The batch mean of (x + bias) when the previous node's bias was not added (Network.absorbedBiases).
  const statMean = (absorbed ? tf.add(mean, absorbed) : mean) as tf.Tensor1D;
  const stats: BatchStatistics = { mean: statMean, variance: variance as tf.Tensor1D, count };
  ctx.bnStats.push({ node: bn, stats });
  const backward: Backward = (dy, grads, needDx) => {
    // This share's part of each sum is its gamma/beta gradient (the step sums every weight's over shares); the
    // input gradient needs the whole batch's.
    const mine = [tf.sum(dy, axes), tf.sum(tf.mul(dy, xhat), axes)];
    if (weights.beta) grads[`${layer.name}/beta`] = mine[0]!;
    if (weights.gamma) grads[`${layer.name}/gamma`] = mine[1]!;
    const [dbeta, dgamma] = shard.sum(mine) as [tf.Tensor, tf.Tensor];
    if (!needDx) return undefined;
    const scale = weights.gamma ? tf.mul(weights.gamma, tf.div(inv, count)) : tf.div(inv, count);
    return [tf.mul(scale, tf.sub(tf.sub(tf.mul(dy, count), dbeta), tf.mul(xhat, dgamma)))];
  };
  return { y, backward };
}

/**
 * Batch normalization in training mode, NHWC or [N, C] (formula: src/lower/batchnorm.ts) with its closed-form
 * gradient:
 *   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma / (m sqrt(var + eps)) * (m dy - dbeta - xhat dgamma)
 * with sums over every axis but the channel, m values per channel. Written with src/lower/channel-ops.ts'
 * per-channel passes (one SIMD pass each on wasm: means, centering with the mean square, the scale-and-shift,
 * the backward's two means and its two-term affine). It keeps c = x - mean, not xhat = c inv with
 * inv = 1 / sqrt(var + eps), so that
 *   y = c (gamma inv) + beta,  dgamma = m inv mean(dy c),  dx = dy (gamma inv) + c b + d
 * with b = -gamma inv^3 mean(dy c) and d = -gamma inv mean(dy) per channel.
 */
function channelPassBatchNormStage(
  x: tf.Tensor,
  bn: BatchNormNode,
  ctx: StepContext,
  relu: boolean,
): StageResult {
  const { layer, weights, absorbedBias: absorbed } = bn;
  const channels = x.shape.at(-1)!;
  const { shard } = ctx;
  const count = countOf(x, bn, ctx);
  const localMean = channelMeans(x);
  // With a share of the batch, c is about the whole batch's mean: this share's centering is not kept then.
  const local = channelCentered(x, localMean, { keep: shard.rows === shard.total });
  const { mean, variance } = shard.moments(localMean, local.meanSquare);
  const c = (mean === localMean ? local.centered : channelCentered(x, mean).centered)!;
  const inv = tf.rsqrt(tf.add(variance, layer.epsilon));
  const factor = weights.gamma ? tf.mul(weights.gamma, inv) : inv;
  const y = channelAffine(c, factor, { shift: weights.beta, relu });
  // With the relu fused, dy is the gradient of relu(y): it counts where y > 0.
  const gate = relu ? y : undefined;
  // The batch mean of (x + bias) when the previous node's bias was not added (Network.absorbedBiases).
  const statMean = (absorbed ? tf.add(mean, absorbed) : mean) as tf.Tensor1D;
  const stats: BatchStatistics = { mean: statMean, variance: variance as tf.Tensor1D, count };
  ctx.bnStats.push({ node: bn, stats });
  const backward: Backward = (dy, grads, needDx) => {
    const mine = channelMeansOfProduct(dy, c, gate);
    // This share's part of each sum is its gamma/beta gradient (the step sums every weight's over shares); the
    // input gradient needs the whole batch's means.
    const values = x.size / channels; // values per channel in this share
    if (weights.beta) grads[`${layer.name}/beta`] = tf.mul(mine[0]!, values);
    if (weights.gamma) grads[`${layer.name}/gamma`] = tf.mul(mine[1]!, tf.mul(inv, values));
    const [meanDy, meanDyC] = shard.mean(mine) as [tf.Tensor, tf.Tensor];
    if (!needDx) return undefined;
    const b = tf.neg(tf.mul(tf.mul(factor, tf.square(inv)), meanDyC));
    const d = tf.neg(tf.mul(factor, meanDy));
    return [channelAffine(dy, factor, { shift: d, plus: { t: c, scale: b }, gate })];
  };
  return { y, backward, fusedConsumer: relu };
}
