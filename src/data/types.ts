// What a data source gives the training loop: samples as one flat float32 array per split (row-major,
// sample after sample), integer class labels, and enough description to check them against a model.
// Loaders read files straight into these typed arrays: no per-sample JS arrays, no extra copies.

export interface Split {
  /** count * prod(sampleShape) values, sample after sample. */
  x: Float32Array;
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
}
