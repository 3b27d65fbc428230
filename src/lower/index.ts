// Lowering: checked IR -> TensorFlow.js. The public surface for the CLI, saving and experiments.
export { buildModel, type BuildOptions } from "./model.ts";
export { Network, type WeightEntry, type ForwardOptions } from "./network.ts";
export { distribution, fans, initialValues } from "./initializers.ts";
export { batchNormTraining, batchNormInference, nextMovingStatistics } from "./batchnorm.ts";
export { foldBatchNorm, type FoldedModel } from "./fold-bn.ts";
