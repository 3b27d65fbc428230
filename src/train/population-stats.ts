// Training: bnstats exact -> every batchnorm layer's population mean and variance over the training set (or a
// seeded sample of it), written into moving_mean / moving_variance. Layer by layer in network order, so each
// layer's input is computed with the earlier batchnorm layers already normalizing by population statistics,
// exactly as inference will see it. (Formula and rationale: src/lower/batchnorm.ts, batchNormTraining.)
import * as tf from "@tensorflow/tfjs-core";
import { evaluationBatches } from "../data/batches.ts";
import { gatherSplit } from "../data/split.ts";
import type { Split } from "../data/types.ts";
import { reductionAxes } from "../lower/batchnorm.ts";
import { channelMoments } from "../lower/channel-ops.ts";
import type { Network } from "../lower/network.ts";
import { simdChannels } from "../runtime/simd-ops.ts";
import { Random } from "../util/random.ts";
import { evalBatchOf, sampleSizeOf } from "./evaluate.ts";

/** At most `sample` samples of the split, drawn without replacement from a stream of the seed (kept in order). */
export function sampleSplit(
  split: Split,
  sample: number | undefined,
  seed: number,
  sampleSize: number,
): Split {
  if (sample === undefined || sample >= split.count) return split;
  const chosen = new Random(seed).fork("bnstats:sample").permutation(split.count).subarray(0, sample).sort();
  // Copied as stored (bytes stay bytes, with their scale); evaluationBatches scales them.
  return gatherSplit(split, chosen, sampleSize);
}

/**
 * Values (float32) the pass may keep between batchnorm layers: 256 MB. An MLP's hidden layer over 60,000 samples
 * is 7.7 M values; a convnet's early feature maps are hundreds of millions, and are computed again instead.
 */
export const KEPT_VALUES = 64 * 2 ** 20;

/**
 * Recomputes the population statistics of every batchnorm layer. Per batch the mean and biased variance come
 * from tf.moments, or its per-channel form (channelMoments: two passes, float64 sums of float32 values) for NHWC
 * and wherever nnc's SIMD passes run; batches are merged in float64 with Chan et al.'s pairwise rule, so the
 * result is the variance over all values, not a mean of batch variances.
 *
 * Each layer's input needs the layers before it, up to the batchnorm before it: that one's input, computed by the
 * previous layer's pass (and independent of its statistics), is kept per batch when it fits in KEPT_VALUES, and
 * the next pass starts there instead of at the model's input. For a chain of dense layers this roughly halves
 * the pass; the values are the same, bit for bit (same batches, same ops on the same inputs).
 */
export function recomputePopulationStatistics(
  net: Network,
  split: Split,
  batchSize = evalBatchOf(net.model),
  keptValues = KEPT_VALUES,
): void {
  const sampleSize = sampleSizeOf(net);
  // The input of the previous batchnorm, per batch, by its producer's position.
  let kept: { node: number; batches: tf.Tensor[] } | undefined;
  let next: tf.Tensor[] = [];
  try {
    net.batchNorms.forEach((node, k) => {
      const producer = net.inputsOf[node.index]![0]!;
      const perSample = node.layer.outputShape!.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
      // A batchnorm that reads the model's input has nothing before it to skip: keep nothing for it.
      const keep =
        producer !== undefined && k + 1 < net.batchNorms.length && split.count * perSample <= keptValues;
      next = [];
      const channels = node.weights.movingMean.shape[0]!;
      const mean = new Float64Array(channels);
      const m2 = new Float64Array(channels);
      let n = 0;
      let b = 0;
      for (const batch of evaluationBatches(split, { batchSize, sampleSize })) {
        let count = 0;
        const given = kept && new Map([[kept.node, kept.batches[b]!]]);
        const [stats, h] = tf.tidy(() => {
          const x = tf.tensor(batch.x, [batch.size, ...net.inputShape], "float32");
          const h = net.forward(x, { training: false, stop: node.index, ...(given ? { given } : {}) });
          count = h.size / channels;
          // [N, C] too where the SIMD passes run: tf.moments on wasm transposes h to reduce it ([1000, 128]:
          // 1.0-1.4 ms against 0.24-0.38 ms).
          const m =
            h.rank === 4 || simdChannels(channels) ? channelMoments(h) : tf.moments(h, reductionAxes(h.rank));
          // A kept batch is the given tensor itself when nothing ran (two batchnorms in a row): clone it.
          return [tf.concat([m.mean, m.variance]), keep ? h.clone() : undefined] as const;
        });
        b++;
        if (h) next.push(h);
        const values = stats.dataSync() as Float32Array;
        stats.dispose();
        const total = n + count;
        for (let c = 0; c < channels; c++) {
          const bMean = values[c]!;
          const delta = bMean - mean[c]!;
          mean[c] = mean[c]! + (delta * count) / total;
          m2[c] = m2[c]! + values[channels + c]! * count + (delta * delta * n * count) / total;
        }
        n = total;
      }
      if (kept) tf.dispose(kept.batches);
      kept = keep ? { node: producer, batches: next } : undefined;
      next = [];
      if (n === 0) return;
      const unbiased = node.layer.variance === "unbiased" && n > 1;
      const variance = Float32Array.from(m2, (v) => v / (unbiased ? n - 1 : n));
      tf.tidy(() => {
        node.weights.movingMean.assign(tf.tensor1d(Float32Array.from(mean), "float32"));
        node.weights.movingVariance.assign(tf.tensor1d(variance, "float32"));
      });
    });
  } finally {
    if (kept) tf.dispose(kept.batches);
    tf.dispose(next);
  }
}
