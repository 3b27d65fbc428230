// Data layer: real data sets (embedded MNIST, Debian's Fashion-MNIST, IDX folders, CSV) -> typed-array splits
// and reusable-buffer mini-batches. Never fetches from the web; never imports tfjs.
export type { Dataset, Split } from "./types.ts";
export { loadDataset, SOURCES, type LoadOptions } from "./load.ts";
export { compatibleShapes, formatShape } from "./shapes.ts";
export {
  trainingBatches,
  evaluationBatches,
  epochOrder,
  type Batch,
  type BatchOptions,
  type EpochBatches,
} from "./batches.ts";
export { describeDataset, formatDatasetDescription, type DatasetDescription } from "./describe.ts";
export { FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, fashionMnistInstalled } from "./fashion-mnist.ts";
export { SPLIT_SEED } from "./split.ts";
