// ONNX export of a saved model: a model folder (nnc train --out, model.save) -> the bytes of a .onnx file, and
// writing them. The folder is loaded as `nnc predict` loads it (every check of src/save/model.ts), its weights
// read as plain data, and the graph built by src/onnx/graph.ts and encoded by src/onnx/proto.ts.
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { fail, type Diagnostic } from "../diagnostics/index.ts";
import type { BackendChoice, WeightData } from "../runtime/types.ts";
import { writeFileAtomic } from "../save/atomic.ts";
import { CHECKPOINT_FILE } from "../save/checkpoint.ts";
import { INFERENCE_DIR, MODEL_FILES, loadModel } from "../save/model.ts";
import { VERSION } from "../version.ts";
import { buildOnnxGraph, type OnnxModelInfo } from "./graph.ts";
import { encodeModel } from "./proto.ts";

/** Where `nnc export DIR` writes without -o: DIR/model.onnx, beside model.json. */
export const ONNX_FILE = "model.onnx";

export interface ExportOnnxOptions {
  /** Fold batchnorm into the dense/conv2d before it (default true), as nnc's inference export does. */
  foldBatchNorm?: boolean;
  /** The backend that loads the folder (default "auto"); the export is the same on every one. */
  backend?: BackendChoice;
  /** Told about what loads but deserves a warning (W030: NaN or infinite weights). */
  onWarning?: (warning: Diagnostic) => void;
}

export interface OnnxExport {
  /** The .onnx file's bytes. */
  bytes: Uint8Array;
  info: OnnxModelInfo;
}

/** The model's weights as plain data (getWeights may hand out its own variables: a scope, not tf.tidy). */
function plainWeights(getWeights: () => Record<string, tf.Tensor>): Record<string, WeightData> {
  tf.engine().startScope();
  try {
    return Object.fromEntries(
      Object.entries(getWeights()).map(([name, t]) => [
        name,
        { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) },
      ]),
    );
  } finally {
    tf.engine().endScope();
  }
}

/**
 * The ONNX model of the model saved in `dir` (opset 17): it takes samples as nnc does (NHWC images), raw when
 * the model was trained on scaled data, and outputs what nnc's predict outputs. E603 when `dir` is not a saved
 * model; E760-E761 when the model cannot be written in ONNX.
 */
export async function exportOnnx(dir: string, options: ExportOnnxOptions = {}): Promise<OnnxExport> {
  const model = await loadModel(dir, {
    backend: options.backend ?? "auto",
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
  try {
    const weights = plainWeights(() => model.getWeights());
    const { model: proto, info } = buildOnnxGraph(model.program, weights, {
      // The divisor the saved model.json's leading Rescaling layer states (src/save/input-scale.ts).
      inputScale: model.inputScale,
      foldBatchNorm: options.foldBatchNorm ?? true,
      producerVersion: VERSION,
    });
    return { bytes: encodeModel(proto), info };
  } finally {
    model.dispose();
  }
}

/** The files of a run folder an export never writes over. */
const FOLDER_FILES = new Set<string>([...Object.values(MODEL_FILES), CHECKPOINT_FILE]);

/**
 * Where to write the export of `dir`: `output`, or DIR/model.onnx; a folder given as `output` gets model.onnx
 * inside. E762 for a path named as one of a model folder's own files (model.json, ir.json, ...) that is in the
 * run folder, its inference/ or the run folder above an inference/ being exported, or that exists anywhere: a
 * .onnx file under that name is never what is meant.
 */
export function onnxOutputPath(dir: string, output: string | undefined): string {
  if (output === undefined) return join(dir, ONNX_FILE);
  let file = output;
  if (output.endsWith("/") || (existsSync(output) && statSync(output).isDirectory()))
    file = join(output, ONNX_FILE);
  const target = resolve(file);
  const name = basename(target);
  if (!FOLDER_FILES.has(name)) return file;
  const folders = [resolve(dir), resolve(dir, INFERENCE_DIR)];
  if (basename(resolve(dir)) === INFERENCE_DIR) folders.push(resolve(dir, ".."));
  if (existsSync(target) || folders.includes(dirname(target))) {
    fail("E762", {
      file,
      reason: `${name} is a file of nnc's model folders; name a .onnx file (default: ${join(dir, ONNX_FILE)})`,
    });
  }
  return file;
}

/** Writes an export atomically (E007 when it cannot be written). */
export function writeOnnx(file: string, bytes: Uint8Array): void {
  writeFileAtomic(file, bytes);
}
