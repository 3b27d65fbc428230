// Data layer: what a data source holds, read cheaply, for `nnc check`: the sample shape, the number of classes,
// the kind of labels and how many training (and test) samples there are. The built-ins know theirs; IDX
// folders give it from the images' header and the label files; CSV files from the label column alone. No
// feature value is read, so checking a spec against 60,000 images costs milliseconds, not a load.
import type { DataRef } from "../ir/schema.ts";
import { csvMetadata } from "./csv.ts";
import { FASHION_MNIST_DIR, FASHION_MNIST_CLASSES } from "./fashion-mnist.ts";
import { findIdxFiles } from "./idx-folder.ts";
import { readIdx, readIdxDims } from "./idx.ts";
import { checkDataSource, resolveSource } from "./load.ts";
import { MNIST_EMBEDDED } from "./mnist-embedded.ts";
import { impliedClasses } from "./source.ts";
import { formatShape } from "./shapes.ts";
import type { Dataset } from "./types.ts";
import { fail } from "../diagnostics/diagnostic.ts";

export interface DataMetadata {
  /** The source as written. */
  source: string;
  /** Per-sample shape as stored, e.g. [28, 28]; [features] for CSV. */
  sampleShape: number[];
  /** Labels are 0..numClasses-1 (the largest label + 1 for files; 10 for the built-ins). */
  numClasses: number;
  /**
   * What the labels are. Every source nnc reads gives integer class indices (CSV labels are checked to be:
   * E512, E517), so a model's output is always a classifier's; kept explicit for the loss rule.
   */
  labelKind: "class-index";
  /** Training samples in the source, before any hold-out or limit. */
  trainCount: number;
  /** The source's own test set, when it has one. */
  testCount?: number;
  /** trainCount is what training gets, the hold-out and limit already applied (a loaded Dataset's). */
  final?: boolean;
}

async function idxMetadata(dir: string): Promise<Omit<DataMetadata, "source" | "labelKind">> {
  const files = findIdxFiles(dir);
  const pair = async (images: string, labels: string) => {
    const [dims, labelFile] = await Promise.all([readIdxDims(images, "images"), readIdx(labels, "labels")]);
    const count = dims[0]!;
    if (labelFile.dims[0] !== count)
      fail("E505", { file: labels, images: count, labels: labelFile.dims[0]! });
    return { shape: dims.slice(1), count, labels: labelFile.data };
  };
  const [train, test] = await Promise.all([
    pair(files.trainImages, files.trainLabels),
    files.test ? pair(files.test.images, files.test.labels) : undefined,
  ]);
  if (test && formatShape(test.shape) !== formatShape(train.shape)) {
    fail("E514", {
      train: files.trainImages,
      test: files.test!.images,
      trainShape: formatShape(train.shape),
      testShape: formatShape(test.shape),
    });
  }
  const meta = {
    sampleShape: train.shape,
    numClasses: impliedClasses(train.labels, test?.labels ?? []),
    trainCount: train.count,
  };
  return test ? { ...meta, testCount: test.count } : meta;
}

/**
 * The metadata of the source a data setting names, paths relative to `baseDir`. Fails with the data layer's own
 * errors where the source is unknown (E500), missing (E501, E502) or malformed (E503-E505, E508-E519).
 */
export async function readDataMetadata(
  ref: DataRef,
  options: { baseDir?: string } = {},
): Promise<DataMetadata> {
  const baseDir = options.baseDir ?? process.cwd();
  checkDataSource(ref, { baseDir });
  const source = resolveSource(ref, baseDir);
  const of = (m: Omit<DataMetadata, "source" | "labelKind">): DataMetadata => ({
    source: ref.source,
    labelKind: "class-index",
    ...m,
  });
  switch (source.kind) {
    case "mnist":
      return of({
        sampleShape: [...MNIST_EMBEDDED.sampleShape],
        numClasses: MNIST_EMBEDDED.classes,
        trainCount: MNIST_EMBEDDED.train,
        testCount: MNIST_EMBEDDED.test,
      });
    case "fashion-mnist":
      return of({ ...(await idxMetadata(FASHION_MNIST_DIR)), numClasses: FASHION_MNIST_CLASSES.length });
    case "idx":
      return of(await idxMetadata(source.path));
    case "csv":
      return of(await csvMetadata(source.path, ref.label));
  }
}

/** The metadata of a data set already loaded (after its hold-out: `validation` counts as the test set). */
export function metadataOfDataset(ds: Dataset): DataMetadata {
  return {
    source: ds.source,
    sampleShape: ds.sampleShape,
    numClasses: ds.numClasses,
    labelKind: "class-index",
    trainCount: ds.train.count,
    testCount: ds.validation.count,
    final: true,
  };
}
