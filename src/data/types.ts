// What a data source gives the training loop: samples as one flat typed array per split (row-major, sample
// after sample) kept in the element type the source stores them in, integer class labels, and enough
// description to check them against a model. Loaders read files straight into these typed arrays: no
// per-sample JS arrays, no extra copies; values are scaled only when rows are copied into a batch.

export interface Split {
  /**
   * count * prod(sampleShape) raw values, sample after sample. The value a model sees is `x[i] / scale`,
   * rounded to float32: never read `x` as model input directly, copy rows through src/data (batches.ts'
   * trainingBatches / evaluationBatches, or rows.ts' rowsAsFloat32), which apply the scale.
   * Float32Array for sources parsed to floats (embedded mnist, CSV); Uint8Array for image bytes (IDX,
   * fashion-mnist), which is a quarter of the memory: 47 MB rather than 188 MB for Fashion-MNIST's training set.
   */
  x: Float32Array | Uint8Array;
  /**
   * Divisor applied when rows are copied out (`x[i] / scale` computed in float64, stored as float32: the same
   * rounding as dividing the bytes up front). 1 where `x` already holds the values (float sources), 255 for
   * IDX/fashion-mnist bytes unless the `scale=` option says otherwise.
   */
  scale: number;
  /** Class index per sample. */
  y: Uint8Array | Int32Array;
  count: number;
  /** The file the split's samples were read from, for messages (e.g. E506); absent for embedded data. */
  origin?: string;
}

export interface Dataset {
  /** The source as written, e.g. "mnist", "fashion-mnist", "idx:./data". */
  source: string;
  /** Human description: where it came from, how it was split. */
  description: string;
  /** Per-sample shape as stored, e.g. [28, 28]. */
  sampleShape: number[];
  numClasses: number;
  classNames?: string[];
  train: Split;
  /** Held-out split used for validation: the test set, or a `validation=` fraction of train. */
  validation: Split;
  /** Name of the held-out split, for reports ("test" or "validation"). */
  validationName: "test" | "validation";
  /**
   * Choices nnc made reading the source where the files leave room for doubt, each with its reason and how to
   * change it (CSV: "labels: column 'y' ...", "scale: values used as they are: ..."): printed by `nnc data` and
   * in the run header, so a wrong guess is seen before training, not after.
   */
  choices?: string[];
}
