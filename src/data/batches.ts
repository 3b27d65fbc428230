// Data layer: a Split -> mini-batches for one epoch, copied row by row (and scaled: rows.ts) into preallocated
// float32 buffers that are reused from batch to batch (building a batch in JS and making one tensor is 20-30x cheaper than tf.gather on
// wasm, and nothing copies the whole data set per epoch). Training batches may be augmented in place once their
// rows are copied (augment.ts); evaluation batches never are. No tfjs here: the trainer wraps the buffers.
import { Random } from "../util/random.ts";
import type { Augmenter } from "./augment.ts";
import { rowCopier } from "./rows.ts";
import type { Split } from "./types.ts";

export interface Batch {
  /** size * sampleSize values: a view of the reused buffer, valid until the next batch is made. */
  x: Float32Array;
  /** size labels: a view of the reused buffer. */
  y: Int32Array;
  /** Which samples of the split, in order (view of a reused buffer). */
  indices: Int32Array;
  size: number;
  /** 1-based step within the epoch, and the epoch's number of steps. */
  step: number;
  steps: number;
}

export interface EpochBatches extends Iterable<Batch> {
  steps: number;
  /**
   * The epoch would have ended with a batch of one sample, so that sample joined the previous batch (batch
   * normalization cannot normalize a batch of one: its variance is 0). The trainer reports it.
   */
  mergedLastSingleton: boolean;
}

export interface BatchOptions {
  batchSize: number;
  /** Elements per sample: prod(sampleShape). */
  sampleSize: number;
}

/**
 * The sample order of one training epoch: a permutation drawn from a stream named after the epoch, so it is a
 * function of (seed, epoch) alone and a run resumed at epoch k shuffles as an uninterrupted one does.
 */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  return new Random(seed).fork(`data:shuffle:epoch:${epoch}`).permutation(count);
}

/**
 * The batches of one training epoch. Shuffled by (seed, epoch) unless `shuffle` is false. A final batch of
 * a single sample is merged into the one before it (unless the split has one sample in all, or
 * `mergeSingleton` is false: only batch normalization needs it, since it cannot normalize one sample).
 *
 * The buffers are overwritten by the next batch: consume a batch (make and use its tensor) before advancing.
 * On tfjs' cpu backend `tf.tensor(batch.x)` keeps a reference to the array rather than copying it, so a tensor
 * kept across batches there must be made from a copy.
 */
export function trainingBatches(
  split: Split,
  options: BatchOptions & {
    seed: number;
    epoch: number;
    shuffle?: boolean;
    mergeSingleton?: boolean;
    /** Augments each batch's images in its buffer once the rows are copied (training only: augment.ts). */
    augment?: Augmenter | undefined;
  },
): EpochBatches {
  const order =
    options.shuffle === false
      ? sequential(split.count)
      : epochOrder(split.count, options.seed, options.epoch);
  const augment = options.augment && { augmenter: options.augment, epoch: options.epoch };
  return batchesInOrder(split, order, options, options.mergeSingleton ?? true, augment);
}

/** Sequential batches over the whole split, for evaluation (inference mode: no singleton merge needed). */
export function evaluationBatches(split: Split, options: BatchOptions): EpochBatches {
  return batchesInOrder(split, sequential(split.count), options, false);
}

function sequential(count: number): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}

function batchesInOrder(
  split: Split,
  order: Int32Array,
  options: BatchOptions,
  mergeSingleton: boolean,
  augment?: { augmenter: Augmenter; epoch: number },
): EpochBatches {
  const { batchSize, sampleSize } = options;
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  const count = split.count;
  const mergedLastSingleton = mergeSingleton && batchSize > 1 && count > 1 && count % batchSize === 1;
  const steps = mergedLastSingleton ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
  const capacity = Math.min(count, mergedLastSingleton ? batchSize + 1 : batchSize);
  const x = new Float32Array(capacity * sampleSize);
  const y = new Int32Array(capacity);
  const indices = new Int32Array(capacity);
  const labels = split.y;
  const copyRow = rowCopier(split, sampleSize);
  return {
    steps,
    mergedLastSingleton,
    *[Symbol.iterator]() {
      for (let step = 0; step < steps; step++) {
        const start = step * batchSize;
        const end = step === steps - 1 ? count : start + batchSize;
        const size = end - start;
        for (let j = 0; j < size; j++) {
          const i = order[start + j]!;
          indices[j] = i;
          y[j] = labels[i]!;
          copyRow(i, x, j); // scales: split.x may hold bytes
        }
        // Step `step + 1` of the epoch: its draws are a function of (seed, epoch, step) alone.
        augment?.augmenter.apply(x, size, augment.epoch, step + 1);
        yield {
          x: size === capacity ? x : x.subarray(0, size * sampleSize),
          y: size === capacity ? y : y.subarray(0, size),
          indices: size === capacity ? indices : indices.subarray(0, size),
          size,
          step: step + 1,
          steps,
        };
      }
    },
  };
}
