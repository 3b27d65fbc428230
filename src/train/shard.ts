// Training: which rows of a batch one step computes, and how statistics over the whole batch are formed from
// every share's. One thread computes the whole batch (`wholeBatch`: every reduction is the identity and no
// kernel is added); data-parallel training (src/train/parallel/) gives each thread a share whose reductions
// meet the other threads' through shared memory, so batch normalization still sees the statistics of the whole
// batch and the results equal one thread's up to float rounding.
import type * as tf from "@tensorflow/tfjs-core";

export interface Shard {
  /** The first row of the batch this share holds. */
  offset: number;
  /** Rows in this share. */
  rows: number;
  /** Rows in the whole batch. */
  total: number;
  /**
   * Per-channel mean and (biased) variance over the whole batch from this share's (its mean, and its variance
   * about that mean): one exchange per batchnorm layer's forward, combined as Chan et al.'s parallel variance.
   */
  moments(mean: tf.Tensor, variance: tf.Tensor): { mean: tf.Tensor; variance: tf.Tensor };
  /** Per-channel means over the whole batch, from each tensor's means over this share's rows (same order). */
  mean(parts: tf.Tensor[]): tf.Tensor[];
  /** Per-channel sums over the whole batch, from each tensor's sums over this share's rows (same order). */
  sum(parts: tf.Tensor[]): tf.Tensor[];
}

/** The whole batch in one thread: reductions are the identity. */
export function wholeBatch(rows: number): Shard {
  return {
    offset: 0,
    rows,
    total: rows,
    moments: (mean, variance) => ({ mean, variance }),
    mean: (parts) => parts,
    sum: (parts) => parts,
  };
}
