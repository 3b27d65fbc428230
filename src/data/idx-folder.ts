// Data layer: a folder of MNIST-format IDX files (`idx:PATH`, and Fashion-MNIST) -> training and test splits.
// File names follow the original MNIST distribution (train-images-idx3-ubyte[.gz], ...), also with the
// `train-images.idx3-ubyte` spelling of some mirrors; the test pair is optional.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { fail } from "../diagnostics/diagnostic.ts";
import { prefetchFile, readIdx } from "./idx.ts";
import { impliedClasses, type LoadedSource } from "./source.ts";
import { formatShape } from "./shapes.ts";
import type { Split } from "./types.ts";

type Role = "train-images" | "train-labels" | "t10k-images" | "t10k-labels";

/** The names tried for each file, in order. */
export function candidateNames(role: Role): string[] {
  const [set, kind] = role.split("-") as [string, string];
  const ext = kind === "images" ? "idx3-ubyte" : "idx1-ubyte";
  const stems = [`${set}-${kind}-${ext}`, `${set}-${kind}.${ext}`];
  return stems.flatMap((stem) => [stem, `${stem}.gz`]);
}

function findFile(dir: string, role: Role): string | undefined {
  for (const name of candidateNames(role)) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function requireFile(dir: string, role: Role, why: string): string {
  const file = findFile(dir, role);
  if (file === undefined) {
    fail("E502", { file: dir, detail: `${why}: looked for ${candidateNames(role).join(", ")}` });
  }
  return file;
}

export interface IdxFiles {
  trainImages: string;
  trainLabels: string;
  /** Both or neither. */
  test?: { images: string; labels: string };
}

/** The folder's IDX files, found without reading them; E502 naming what was looked for. */
export function findIdxFiles(dir: string): IdxFiles {
  if (!existsSync(dir)) fail("E502", { file: dir, detail: "no such folder" });
  if (!statSync(dir).isDirectory()) {
    fail("E502", {
      file: dir,
      detail:
        "is a file, not a folder: idx:PATH names a folder holding train-images-idx3-ubyte[.gz] and the other IDX files",
    });
  }
  const trainImages = requireFile(dir, "train-images", "no training images");
  const trainLabels = requireFile(dir, "train-labels", "no training labels");
  const images = findFile(dir, "t10k-images");
  const labels = findFile(dir, "t10k-labels");
  if (images && labels) return { trainImages, trainLabels, test: { images, labels } };
  if (images || labels) {
    const missing: Role = images === undefined ? "t10k-images" : "t10k-labels";
    requireFile(dir, missing, `the test set is incomplete (found ${images ?? labels})`);
  }
  return { trainImages, trainLabels };
}

/** Starts reading the folder's files ahead of loadIdxFolder (see prefetchFile); quietly nothing if not found. */
export function prefetchIdxFolder(dir: string): void {
  let files: IdxFiles;
  try {
    files = findIdxFiles(dir);
  } catch {
    return; // loadIdxFolder reports it
  }
  // The training images first: the largest, and the first to take a thread of libuv's pool (4 threads).
  for (const file of [files.trainImages, files.test?.images, files.trainLabels, files.test?.labels])
    if (file !== undefined) prefetchFile(file);
}

async function loadPair(
  imagesFile: string,
  labelsFile: string,
  scale: number,
): Promise<{ split: Split; shape: number[] }> {
  const [images, labels] = await Promise.all([readIdx(imagesFile, "images"), readIdx(labelsFile, "labels")]);
  const count = images.dims[0]!;
  // An empty set would train on nothing (loss NaN) or score nothing, and still save a model: refuse it.
  if (count === 0) fail("E019", { file: imagesFile, kind: "images" });
  if (labels.dims[0] !== count) fail("E505", { file: labelsFile, images: count, labels: labels.dims[0]! });
  // The images are kept as the view over the inflated file: that buffer is the storage (47 MB for
  // Fashion-MNIST's training set, against 188 MB as float32), scaled row by row when batches are built. The
  // compressed bytes are not referenced past readMaybeGzipped. slice(): own the few label bytes rather than keep
  // the whole label file buffer alive through a view.
  const split: Split = {
    x: images.data,
    scale,
    y: labels.data.slice(),
    count,
    origin: labelsFile,
  };
  return { split, shape: images.dims.slice(1) };
}

export async function loadIdxFolder(dir: string, scale: number): Promise<LoadedSource> {
  const files = findIdxFiles(dir);
  const [train, test] = await Promise.all([
    loadPair(files.trainImages, files.trainLabels, scale),
    files.test ? loadPair(files.test.images, files.test.labels, scale) : undefined,
  ]);
  if (test && formatShape(test.shape) !== formatShape(train.shape)) {
    fail("E514", {
      train: files.trainImages,
      test: files.test!.images,
      trainShape: formatShape(train.shape),
      testShape: formatShape(test.shape),
    });
  }
  const loaded: LoadedSource = {
    sampleShape: train.shape,
    numClasses: impliedClasses(train.split.y, test?.split.y ?? []),
    train: train.split,
    description: `IDX files in ${dir}`,
  };
  if (test) loaded.test = test.split;
  return loaded;
}
