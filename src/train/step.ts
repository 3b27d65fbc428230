// Training: one optimization step, split into a gradient function (what differentiates the loss) and what
// every step does with the gradients (optimizer update, batchnorm moving averages, one read-back). Two gradient
// functions exist: autograd (tf.variableGrads, the oracle) and the hand-written backward (manual-backward.ts).
import * as tf from "@tensorflow/tfjs-core";
import { nextMovingStatistics, type BatchStatistics } from "../lower/batchnorm.ts";
import type { LoweredLoss } from "../lower/loss.ts";
import type { BatchNormNode, Network } from "../lower/network.ts";
import { l2Penalties, penaltyTensor } from "../lower/regularizers.ts";
import { Random } from "../util/random.ts";
import type { Optimizer } from "./optimizers.ts";
import type { Shard } from "./shard.ts";
import { openUpdate, runUpdate } from "./tensor-memory.ts";

export interface StepGradients {
  loss: tf.Scalar;
  correct: tf.Scalar;
  /** By Keras weight name, every trainable weight. */
  grads: Record<string, tf.Tensor>;
  bnStats: Array<{ node: BatchNormNode; stats: BatchStatistics }>;
}

export interface StepInput {
  x: tf.Tensor;
  y: tf.Tensor1D;
  dropoutRng: ((layer: string) => Random) | undefined;
  /** Which rows of the batch `x` and `y` are (data-parallel training); the whole batch when absent. */
  shard?: Shard;
}

/** Dropout masks as a function of (seed, epoch, step, layer) alone, so a resumed run draws the same ones. */
export const dropoutStreams = (seed: number, epoch: number, step: number) => {
  const base = new Random(seed);
  return (layer: string) => base.fork(`dropout:${epoch}:${step}:${layer}`);
};

/**
 * Computes loss, correct count, gradients and batch statistics inside the caller's tf.tidy. Tensors that must
 * outlive an inner scope of the function (autograd's forward tidy) are pushed to `kept` for the caller to dispose.
 */
export type GradientFn = (input: StepInput, kept: tf.Tensor[]) => StepGradients;

/** Gradients by tfjs autograd over the network's forward: the reference the hand-written backward is tested against. */
export function autogradGradients(net: Network, loss: LoweredLoss): GradientFn {
  // Absorbed biases are not in the training forward (Network.absorbedBiases): their gradient is exactly 0.
  const absorbed = new Set(net.absorbedBiases);
  const trainable = net.trainable.filter((w) => !absorbed.has(w));
  const vars = trainable.map((w) => w.variable);
  const penalties = l2Penalties(net);
  return ({ x, y, dropoutRng, shard }, kept) => {
    if (shard && shard.rows !== shard.total)
      throw new Error("internal: autograd computes whole batches only");
    const bnStats: StepGradients["bnStats"] = [];
    let correct: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const out = net.forward(x, {
        training: true,
        bnStats,
        logits: loss.logits,
        ...(dropoutRng ? { dropoutRng } : {}),
      });
      const r = loss.compute(out, y);
      // variableGrads disposes what its function made except the loss: keep what the step needs afterwards.
      correct = tf.keep(r.correct);
      kept.push(correct);
      for (const s of bnStats) kept.push(tf.keep(s.stats.mean), tf.keep(s.stats.variance));
      // Keras kernel_regularizer L2: part of the loss differentiated (src/lower/regularizers.ts).
      return penalties.length > 0 ? (tf.add(r.loss, penaltyTensor(penalties)) as tf.Scalar) : r.loss;
    }, vars);
    const byName: Record<string, tf.Tensor> = {};
    for (const w of trainable) byName[w.name] = grads[w.variable.name]!;
    for (const w of absorbed) byName[w.name] = tf.zerosLike(w.variable);
    return { loss: value, correct: correct!, grads: byName, bnStats };
  };
}

/**
 * Applies one step at learning rate `lr` (default the optimizer's); returns the batch's mean loss and correct
 * count (one transfer from the backend).
 */
export function trainStep(
  gradients: GradientFn,
  optimizer: Optimizer,
  input: StepInput,
  lr?: number,
): { loss: number; correct: number } {
  const kept: tf.Tensor[] = [];
  try {
    const result = tf.tidy(() => {
      const g = gradients(input, kept);
      optimizer.apply(g.grads, lr);
      updateMovingStatisticsInPlace(g.bnStats);
      return tf.stack([g.loss, g.correct]);
    });
    const [l, c] = result.dataSync() as Float32Array;
    result.dispose();
    return { loss: l!, correct: c! };
  } finally {
    tf.dispose(kept);
  }
}

/**
 * The moving-average rule (lower/batchnorm.ts, nextMovingStatistics) for every batchnorm layer of the step at
 * once, in JS over the statistics' values (no kernels), the next values in fresh memory (tensor-memory.ts).
 */
export function updateMovingStatisticsInPlace(bnStats: StepGradients["bnStats"]): void {
  if (bnStats.length === 0) return;
  const open = openUpdate(
    bnStats.flatMap((s) => [s.stats.mean, s.stats.variance]),
    bnStats.flatMap((s) => [s.node.weights.movingMean, s.node.weights.movingVariance]),
  );
  runUpdate(open, () =>
    bnStats.forEach(({ node, stats }, i) => {
      const pair = (arrays: Float32Array[]) => ({ mean: arrays[2 * i]!, variance: arrays[2 * i + 1]! });
      nextMovingStatistics(node.layer, pair(open.read), stats.count, pair(open.current), pair(open.next));
    }),
  );
}
