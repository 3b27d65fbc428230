// nnc's public API: compile .nn specs (or IR JSON) to checked IR, inspect models, render diagnostics, and
// build, train, save and load models (`compile(source).build()`, `load(dir)`).
// Back ends (lowering, training) take the checked `Program` this gives; see src/ir/schema.ts for its shape.
export {
  compile,
  build,
  load,
  exportOnnx,
  type ExportOnnxOptions,
  type Compiled,
  type NncModel,
  type BuildOptions as ModelOptions,
  type LoadOptions,
} from "./api.ts";
export type {
  CompiledModel,
  History,
  EpochRecord,
  BatchEvent,
  FitOptions,
  Evaluation,
  WeightData,
  BackendChoice,
  BackendName,
} from "./runtime/types.ts";
export type { OnnxExport, OnnxModelInfo } from "./onnx/index.ts";
export { loadDataset, describeDataset, rowsAsFloat32 } from "./data/index.ts";
export type { Dataset, Split } from "./data/types.ts";
export { compileFile, compileIR, parse, check, type CompileOptions, type CompileResult } from "./compile.ts";
export { buildProgram, defaultModelName, type BuildOptions, type BuildResult } from "./build/build.ts";
export { renderLanguageReference } from "./build/reference.ts";
export { checkProgram, type CheckOptions, type CheckResult } from "./check/check.ts";
// Checking against data reads files, so it is a step of its own; compile() never touches the file system.
export { checkData, checkDataFit } from "./check/data-fit.ts";
export { readDataMetadata, type DataMetadata } from "./data/metadata.ts";
export { resolveLoss } from "./check/loss.ts";
export { outputActivation } from "./ir/loss-rules.ts";
export { inferLayer, type Shape } from "./check/shapes.ts";
export { formatShape, sizeOf } from "./util/shape.ts";
export { formatSummary, summarizeModel, type LayerSummary, type ModelSummary } from "./check/summary.ts";
export {
  renderDiagnostic,
  renderDiagnostics,
  summarize,
  SourceText,
  hasErrors,
  NncError,
  type Diagnostic,
  type Severity,
  type Code,
} from "./diagnostics/index.ts";
export { validateIR, irJsonSchema, IR_VERSION } from "./ir/index.ts";
export type {
  Program,
  Model,
  Layer,
  LayerOp,
  LayerOf,
  Train,
  Experiment,
  Loss,
  Optimizer,
  DataRef,
  Initializer,
  Activation,
  Span,
} from "./ir/schema.ts";
