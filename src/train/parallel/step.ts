// Data-parallel training: one step as every thread runs it on its share of the batch. Each thread computes the
// gradients of its rows (batchnorm's statistics meet in the exchange inside, src/train/shard.ts), the gradients
// and the loss are summed over threads in one exchange, and every thread applies the same update to its own
// copy of the weights: same floats in, same float operations, so the copies stay equal (checked every epoch).
import * as tf from "@tensorflow/tfjs-core";
import type { WeightEntry } from "../../lower/network.ts";
import type { Random } from "../../util/random.ts";
import type { Optimizer } from "../optimizers.ts";
import { wholeBatch, type Shard } from "../shard.ts";
import { updateMovingStatisticsInPlace, type GradientFn } from "../step.ts";
import { readInto } from "../tensor-memory.ts";
import type { Exchange } from "./exchange.ts";

export interface Share {
  offset: number;
  rows: number;
}

/**
 * Each thread's rows of a batch of `total`: consecutive, as equal as possible, thread 0 first. A batch with fewer
 * rows than threads is computed by thread 0 alone (the others add zeros), so no thread works on an empty tensor.
 */
export function shares(total: number, ranks: number): Share[] {
  if (total < ranks)
    return Array.from({ length: ranks }, (_, r) => ({ offset: 0, rows: r === 0 ? total : 0 }));
  const out: Share[] = [];
  let offset = 0;
  for (let r = 0; r < ranks; r++) {
    const rows = Math.floor(total / ranks) + (r < total % ranks ? 1 : 0);
    out.push({ offset, rows });
    offset += rows;
  }
  return out;
}

/** Thread `exchange.rank`'s Shard: its means and sums over the whole batch are sums over threads. */
function shardOf(exchange: Exchange, all: Share[], total: number): Shard {
  const share = all[exchange.rank]!;
  if (share.rows === total) return wholeBatch(total);
  const moments = (mean: tf.Tensor, variance: tf.Tensor) => {
    const c = mean.size;
    const mine = new Float32Array(2 * c);
    mine.set(mean.dataSync() as Float32Array);
    mine.set(variance.dataSync() as Float32Array, c);
    const every = exchange.allGather(mine);
    // Chan et al.: mean = sum w_r mean_r, var = sum w_r (var_r + (mean_r - mean)^2), w_r = rows_r / total; in
    // float64, the same operations in every thread.
    const m = new Float32Array(c);
    const v = new Float32Array(c);
    for (let k = 0; k < c; k++) {
      let mk = 0;
      for (let r = 0; r < every.length; r++) mk += (all[r]!.rows / total) * every[r]![k]!;
      let vk = 0;
      for (let r = 0; r < every.length; r++) {
        const d = every[r]![k]! - mk;
        vk += (all[r]!.rows / total) * (every[r]![c + k]! + d * d);
      }
      m[k] = mk;
      v[k] = vk;
    }
    return { mean: tf.tensor(m, mean.shape, "float32"), variance: tf.tensor(v, variance.shape, "float32") };
  };
  const reduce = (parts: tf.Tensor[], weight: number): tf.Tensor[] => {
    const packed = new Float32Array(parts.reduce((n, p) => n + p.size, 0));
    let o = 0;
    for (const p of parts) {
      const v = p.dataSync() as Float32Array;
      if (weight === 1) packed.set(v, o);
      else for (let i = 0; i < v.length; i++) packed[o + i] = v[i]! * weight;
      o += v.length;
    }
    const summed = exchange.allSum(packed);
    o = 0;
    return parts.map((p) => {
      // A copy: the sum is a view the next exchange overwrites, and the cpu backend keeps the array it is given.
      const t = tf.tensor(summed.slice(o, o + p.size), p.shape, "float32");
      o += p.size;
      return t;
    });
  };
  // A mean over the batch is the mean of each share's means, weighted by its rows.
  return {
    ...share,
    total,
    moments,
    mean: (parts) => reduce(parts, share.rows / total),
    sum: (parts) => reduce(parts, 1),
  };
}

export interface ParallelStepInput {
  /** This thread's rows (absent for a share of 0 rows). */
  x?: tf.Tensor;
  y?: tf.Tensor1D;
  dropoutRng: ((layer: string) => Random) | undefined;
  /** Every thread's share of the batch (this thread's is shares[exchange.rank]). */
  shares: Share[];
  total: number;
  /** The step's learning rate (the same in every thread: the main thread's, src/train/schedule.ts). */
  lr?: number;
}

export type ParallelStep = (input: ParallelStepInput) => { loss: number; correct: number };

/**
 * This thread's step function. `updateStatistics`: whether this thread keeps batchnorm's moving statistics (the
 * main thread; the others never run inference). A step returns the whole batch's mean loss and correct count.
 */
export function parallelStepper(
  gradients: GradientFn,
  optimizer: Optimizer,
  trainable: WeightEntry[],
  exchange: Exchange,
  updateStatistics: boolean,
): ParallelStep {
  const size = trainable.reduce((n, w) => n + w.variable.size, 0);
  // Every gradient, then loss and correct count; reused by every step.
  const packed = new Float32Array(size + 2);
  return (input) => {
    const kept: tf.Tensor[] = [];
    try {
      return tf.tidy(() => {
        const { total } = input;
        const share = input.shares[exchange.rank]!;
        packed.fill(0);
        let bnStats: ReturnType<GradientFn>["bnStats"] = [];
        if (share.rows > 0) {
          if (!input.x || !input.y) throw new Error("internal: a share with rows and no tensors");
          const g = gradients(
            {
              x: input.x,
              y: input.y,
              dropoutRng: input.dropoutRng,
              shard: shardOf(exchange, input.shares, total),
            },
            kept,
          );
          let o = 0;
          for (const w of trainable) {
            readInto(g.grads[w.name]!, packed, o);
            o += w.variable.size;
          }
          packed[size] = g.loss.dataSync()[0]! * (share.rows / total);
          packed[size + 1] = g.correct.dataSync()[0]!;
          bnStats = g.bnStats;
        }
        const summed = exchange.allSum(packed);
        const grads: Record<string, tf.Tensor> = {};
        let o = 0;
        for (const w of trainable) {
          grads[w.name] = tf.tensor(summed.slice(o, o + w.variable.size), w.variable.shape, "float32");
          o += w.variable.size;
        }
        optimizer.apply(grads, input.lr);
        if (updateStatistics) updateMovingStatisticsInPlace(bnStats);
        return { loss: summed[size]!, correct: summed[size + 1]! };
      });
    } finally {
      tf.dispose(kept);
    }
  };
}

/**
 * Every thread's trainable weights, flat, in thread order (the epoch's check that the copies are equal); every
 * thread calls it. Gathered in chunks that fit a slot, so the slots need not hold every thread's whole copy.
 */
export function gatherWeights(exchange: Exchange, trainable: WeightEntry[]): Float32Array[] {
  const mine = new Float32Array(trainable.reduce((n, w) => n + w.variable.size, 0));
  let o = 0;
  for (const w of trainable) {
    readInto(w.variable, mine, o);
    o += w.variable.size;
  }
  const all = Array.from({ length: exchange.ranks }, () => new Float32Array(mine.length));
  const chunk = Math.floor(exchange.capacity / exchange.ranks);
  for (let at = 0; at < mine.length; at += chunk) {
    const parts = exchange.allGather(mine.subarray(at, at + chunk));
    parts.forEach((p, r) => all[r]!.set(p, at));
  }
  return all;
}
