// Saving: models in the TensorFlow.js Layers format plus nnc's IR, per-epoch checkpoints for --resume, and
// run manifests. The public surface of src/save/.
export {
  saveModel,
  loadModel,
  MODEL_FILES,
  INFERENCE_DIR,
  type BuildModel,
  type LoadedModel,
  type SaveExtras,
} from "./model.ts";
export { inputScaleOf, leadingRescaling, withInputScale, type LeadingRescaling } from "./input-scale.ts";
export { readCheckpoint } from "./checkpoint-read.ts";
export { writeCheckpoint, hasCheckpoint, CHECKPOINT_FILE, type CheckpointMeta } from "./checkpoint.ts";
export { checkpointFingerprint, type Fingerprint } from "./fingerprint.ts";
export { makeManifest, type RunManifest, type ManifestInput } from "./manifest.ts";
