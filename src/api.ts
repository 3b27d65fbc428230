// The runtime half of nnc's public API: a compiled program becomes a trainable TensorFlow.js model
// (`compile(source).build()`), which can be saved and loaded. The lowering, the backends and saving are
// imported on first use, so code that only compiles or checks specs never loads TensorFlow.js.
import { compile as compileSource, type CompileOptions, type CompileResult } from "./compile.ts";
import { NncError, diagnostic, type Diagnostic } from "./diagnostics/index.ts";
import type { Program } from "./ir/schema.ts";
import type { OnnxExport } from "./onnx/index.ts";
import type { History, BackendChoice, CompiledModel } from "./runtime/types.ts";

/** A model built by nnc: train it, predict with it, read and write its weights, save it. */
export interface NncModel extends CompiledModel {
  /**
   * Writes the model to `dir`: model.json + weights.bin (TensorFlow.js Layers format, loadable with
   * tf.loadLayersModel), ir.json (what nnc's `load` rebuilds it from), and history.json when given.
   * `inputScale` is the divisor of the raw values the model was trained on (its dataset's `train.scale`, 255
   * for image bytes): model.json then divides its inputs by it (a Keras Rescaling layer), so it takes raw
   * values. Default: a loaded model's own, else 1.
   */
  save(dir: string, extras?: { history?: History; inputScale?: number }): Promise<void>;
  /** For a model loaded from a folder: the divisor of raw inputs it was saved with (1: none). */
  readonly inputScale?: number;
}

export interface BuildOptions {
  /** Which model of the program (default: the first). */
  model?: string;
  /** Seeds the initial weights (default: the program's train seed). */
  seed?: number;
  /** "auto" (default) picks tensorflow (tfjs-node) where installed, else wasm, else cpu. */
  backend?: BackendChoice;
}

function withSave(model: CompiledModel, saveModel: typeof import("./save/index.ts").saveModel): NncModel {
  return Object.assign(model, {
    save: async (dir: string, extras: { history?: History; inputScale?: number } = {}) =>
      saveModel(model, dir, extras),
  });
}

/** Builds a checked program into a model on the chosen backend. */
export async function build(program: Program, options: BuildOptions = {}): Promise<NncModel> {
  const [{ selectBackend }, { buildModel }, { saveModel }] = await Promise.all([
    import("./runtime/backend.ts"),
    import("./lower/index.ts"),
    import("./save/index.ts"),
  ]);
  const backend = await selectBackend(options.backend ?? "auto");
  const model = buildModel(program, {
    ...(options.model !== undefined ? { model: options.model } : {}),
    seed: options.seed ?? program.train.seed,
    backend: backend.name,
  });
  return withSave(model, saveModel);
}

export interface LoadOptions {
  /** "auto" (default) as for build. */
  backend?: BackendChoice;
  /**
   * Receives warnings about the folder (W030: NaN or infinite weights). Default: process.emitWarning, which
   * Node prints once to stderr.
   */
  onWarning?: (warning: Diagnostic) => void;
}

/**
 * Loads a model saved by `model.save(dir)` or `nnc train --out dir`. The folder is read as untrusted data: only
 * its own files, checked against their schemas and sizes before they are read (docs/security.md). Every failure
 * is an NncError with a code (E603 not a saved model, E01x a file the folder must not name or that is damaged).
 */
export async function load(dir: string, options: LoadOptions = {}): Promise<NncModel> {
  const { loadModel, saveModel } = await import("./save/index.ts");
  const onWarning =
    options.onWarning ??
    ((d: Diagnostic) => process.emitWarning(d.message, { code: d.code, type: "NncWarning" }));
  return withSave(await loadModel(dir, { backend: options.backend ?? "auto", onWarning }), saveModel);
}

export interface ExportOnnxOptions extends LoadOptions {
  /** Also write the model to this .onnx file (atomically; a folder gets model.onnx in it). */
  output?: string;
  /** Fold batchnorm into the dense/conv2d before it (default true), as nnc's inference export does. */
  foldBatchNorm?: boolean;
}

/**
 * Exports the model saved in `dir` (by `model.save(dir)` or `nnc train --out dir`) as an ONNX model, opset 17:
 * its input takes samples as nnc does (NHWC images), raw (the model divides them by the saved input scale),
 * its output is nnc's. Gives the file's bytes and what it holds; `output` also writes them. Errors as for
 * `load`, and E760-E762 (src/onnx/, docs/interop.md).
 *
 *     const { bytes, info } = await exportOnnx("runs/mnist-bn", { output: "mnist-bn.onnx" });
 */
export async function exportOnnx(
  dir: string,
  options: ExportOnnxOptions = {},
): Promise<OnnxExport & { file?: string }> {
  const onnx = await import("./onnx/index.ts");
  const file = options.output === undefined ? undefined : onnx.onnxOutputPath(dir, options.output);
  const exported = await onnx.exportOnnx(dir, {
    backend: options.backend ?? "auto",
    foldBatchNorm: options.foldBatchNorm ?? true,
    onWarning:
      options.onWarning ??
      ((d: Diagnostic) => process.emitWarning(d.message, { code: d.code, type: "NncWarning" })),
  });
  if (file === undefined) return exported;
  onnx.writeOnnx(file, exported.bytes);
  return { ...exported, file };
}

export interface Compiled extends CompileResult {
  /** Builds the compiled program into a model; throws NncError when the source had errors. */
  build(options?: BuildOptions): Promise<NncModel>;
}

/**
 * Compiles .nn source to a checked program, with diagnostics; `.build()` turns it into a model:
 *
 *     const model = await compile(source, { filename: "mlp.nn" }).build({ seed: 1 });
 */
export function compile(source: string, options: CompileOptions = {}): Compiled {
  const result = compileSource(source, options);
  return {
    ...result,
    build: async (buildOptions = {}) => {
      if (!result.program) {
        const first = result.diagnostics.find((d) => d.severity === "error");
        throw new NncError(
          first ?? diagnostic("E003", {}, options.filename !== undefined ? { file: options.filename } : {}),
        );
      }
      return build(result.program, buildOptions);
    },
  };
}
