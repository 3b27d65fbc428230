// Data layer: what each source loader gives before the options common to all sources (validation=, limit=,
// the model check) are applied in load.ts: the training samples and, where the source has one, a test set.
import type { Split } from "./types.ts";

export interface LoadedSource {
  sampleShape: number[];
  numClasses: number;
  classNames?: string[];
  train: Split;
  /** The source's own test set; without one, load.ts holds out a validation fraction of `train`. */
  test?: Split;
  /** Where the data came from, e.g. "Fashion-MNIST from /usr/share/datasets/fashion-mnist". */
  description: string;
  /** Remarks for the description, e.g. why a sibling test.csv was not used. */
  notes?: string[];
  /** Choices nnc made reading the files, with the reason (CSV: the label column, the scale): see Dataset. */
  choices?: string[];
}

/** Fraction of the training set held out as validation when a source has no test set and none is given. */
export const DEFAULT_VALIDATION = 0.2;

/** Largest label + 1: the number of classes a file's labels imply. */
export function impliedClasses(...labelArrays: ArrayLike<number>[]): number {
  let max = -1;
  for (const labels of labelArrays)
    for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  return max + 1;
}
