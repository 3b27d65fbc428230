// Saving: a trained CompiledModel <-> a model folder. The folder holds model.json + weights.bin in the
// TensorFlow.js Layers format (tf.loadLayersModel reads them), ir.json (the checked program nnc rebuilds the
// model from), and, when given, history.json and manifest.json. Each file is replaced atomically.
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { compileIR } from "../compile.ts";
import { fail } from "../diagnostics/index.ts";
import type { Program } from "../ir/schema.ts";
import { buildModel, foldBatchNorm } from "../lower/index.ts";
import { selectBackend } from "../runtime/backend.ts";
import type { BackendChoice, BackendName, CompiledModel, History, WeightData } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { writeFileAtomic } from "./atomic.ts";
import { packTensors, unpackTensors, type TensorEntry } from "./blob.ts";
import { kerasTopology, kerasWeights } from "./keras.ts";
import type { RunManifest } from "./manifest.ts";

/** Subfolder of a saved model holding its inference-only export, batchnorm folded (see saveModel). */
export const INFERENCE_DIR = "inference";

export const MODEL_FILES = {
  topology: "model.json",
  weights: "weights.bin",
  ir: "ir.json",
  history: "history.json",
  manifest: "manifest.json",
} as const;

/** How a program is turned into a runnable model: lowering's buildModel (injectable for tests). */
export type BuildModel = (
  program: Program,
  options: { model?: string; seed?: number; backend: BackendName },
) => CompiledModel;

interface WeightsManifestGroup {
  paths: string[];
  weights: Array<TensorEntry & { dtype: string }>;
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";
const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The model's weights as plain data, in Keras order. getWeights may hand out the model's own variables or
 * fresh tensors: a scope disposes only what was created inside it, so both cases are right.
 */
function readWeights(model: CompiledModel): Array<[string, WeightData]> {
  const expected = kerasWeights(model.model);
  // A scope rather than tf.tidy: what comes out is plain data, which tidy does not accept as a result.
  tf.engine().startScope();
  try {
    const all = model.getWeights();
    const unexpected = Object.keys(all).filter((name) => !expected.some((e) => e.name === name));
    if (unexpected.length > 0) {
      throw new Error(`getWeights() returned weights Keras has no place for: ${unexpected.join(", ")}`);
    }
    return expected.map(({ name, shape }): [string, WeightData] => {
      const t = all[name];
      if (!t) throw new Error(`getWeights() has no ${name}`);
      if (!sameShape(t.shape, shape)) {
        throw new Error(`getWeights() ${name} has shape [${t.shape}], Keras expects [${shape}]`);
      }
      return [name, { shape, data: Float32Array.from(t.dataSync() as Float32Array) }];
    });
  } finally {
    tf.engine().endScope();
  }
}

/** The program as saved: only the trained model, so ir.json alone rebuilds it. */
const savedProgram = (model: CompiledModel): Program => ({
  ...model.program,
  models: [model.model],
  experiments: [],
});

/** model.json + weights.bin in the TensorFlow.js Layers format, weights before the topology that points at them. */
function writeLayersModel(
  dir: string,
  model: Program["models"][number],
  weights: Array<[string, WeightData]>,
): void {
  const { entries, chunks } = packTensors(weights);
  const generatedBy = `nnc ${VERSION}`;
  const weightsManifest: WeightsManifestGroup[] = [
    { paths: [MODEL_FILES.weights], weights: entries.map((e) => ({ ...e, dtype: "float32" })) },
  ];
  writeFileAtomic(join(dir, MODEL_FILES.weights), chunks);
  writeFileAtomic(
    join(dir, MODEL_FILES.topology),
    json({
      format: "layers-model",
      generatedBy,
      convertedBy: null,
      modelTopology: kerasTopology(model, generatedBy),
      weightsManifest,
    }),
  );
}

/**
 * Saves a model folder: the trainable model (Keras layers and names, batchnorm layers included), and, when the
 * model has a batchnorm right after a dense/conv2d, `inference/` beside it: the same model for inference only,
 * with each such batchnorm folded into the layer before it (fewer layers, same predictions within 1e-5; see
 * foldBatchNorm). ir.json is removed first and written last: its presence marks a complete save, also over an
 * older one.
 */
export function saveModel(
  model: CompiledModel,
  dir: string,
  extras: { history?: History; manifest?: RunManifest } = {},
): void {
  const weights = readWeights(model);
  // ir.json marks a complete save: over an older save it goes first, so a crash part-way leaves a folder that
  // load refuses rather than the old ir.json beside new weights.
  rmSync(join(dir, MODEL_FILES.ir), { force: true });
  writeLayersModel(dir, model.model, weights);
  const folded = foldBatchNorm(savedProgram(model), Object.fromEntries(weights));
  if (folded.folded.length > 0) {
    const inference = folded.program.models[0]!;
    const order = kerasWeights(inference).map(({ name }): [string, WeightData] => [
      name,
      folded.weights[name]!,
    ]);
    writeLayersModel(join(dir, INFERENCE_DIR), inference, order);
  } else {
    rmSync(join(dir, INFERENCE_DIR), { recursive: true, force: true });
  }
  if (extras.history) writeFileAtomic(join(dir, MODEL_FILES.history), json(extras.history));
  if (extras.manifest) writeFileAtomic(join(dir, MODEL_FILES.manifest), json(extras.manifest));
  writeFileAtomic(join(dir, MODEL_FILES.ir), json(savedProgram(model)));
}

const notSaved = (dir: string, detail: string): never => fail("E603", { dir, detail });

function readJson(dir: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(join(dir, file), "utf8"));
  } catch (e) {
    return notSaved(dir, `${file} is not valid JSON (${(e as Error).message}); the save may be damaged`);
  }
}

/**
 * The program in ir.json, read as any IR JSON is (compileIR: JSON, schema, then the checker, which recomputes
 * every shape and parameter count rather than trusting the file's): a hand-edited or damaged ir.json is E603,
 * not a failure deep in the lowering.
 */
function readProgram(dir: string): Program {
  const file = join(dir, MODEL_FILES.ir);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return notSaved(dir, `${MODEL_FILES.ir} cannot be read (${(e as Error).message})`);
  }
  const { program, diagnostics } = compileIR(text, { filename: file });
  if (!program) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    return notSaved(
      dir,
      `${MODEL_FILES.ir} is not a valid checked program: ${errors[0]?.message ?? "unknown"}${more}`,
    );
  }
  if (program.models.length !== 1) {
    return notSaved(dir, `${MODEL_FILES.ir} holds ${program.models.length} models; a saved model holds one`);
  }
  return program;
}

/** The weights model.json's weightsManifest points at, checked against what the program's layers need. */
function readSavedWeights(dir: string, program: Program): Map<string, WeightData> {
  const topology = readJson(dir, MODEL_FILES.topology) as { weightsManifest?: WeightsManifestGroup[] };
  const groups = topology?.weightsManifest;
  if (!Array.isArray(groups) || groups.some((g) => !Array.isArray(g?.paths) || !Array.isArray(g?.weights))) {
    return notSaved(dir, `${MODEL_FILES.topology} has no valid weightsManifest`);
  }
  const weights = new Map<string, WeightData>();
  for (const group of groups) {
    const files = group.paths.map((p) => join(dir, p));
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length > 0) return notSaved(dir, `missing ${missing.join(", ")} (named in model.json)`);
    const blob = Buffer.concat(files.map((f) => readFileSync(f)));
    const bad = group.weights.find((w) => w.dtype !== "float32");
    if (bad) return notSaved(dir, `weight ${bad.name} is ${bad.dtype}; nnc saves float32 only`);
    const result = unpackTensors(group.weights, blob);
    if ("problem" in result)
      return notSaved(dir, `${group.paths.join(" + ")} ${result.problem}; it is damaged`);
    for (const [name, w] of result.tensors) weights.set(name, w);
  }
  for (const { name, shape } of kerasWeights(program.models[0]!)) {
    const w = weights.get(name);
    if (!w)
      return notSaved(dir, `${MODEL_FILES.weights} lacks ${name}, which ${MODEL_FILES.ir}'s model needs`);
    if (!sameShape(w.shape, shape)) {
      return notSaved(
        dir,
        `${name} is saved with shape [${w.shape.join(", ")}] but ${MODEL_FILES.ir}'s model needs [${shape.join(", ")}]`,
      );
    }
  }
  return weights;
}

/** Rebuilds a model saved by saveModel: the program from ir.json, the weights from model.json + weights.bin. */
export async function loadModel(
  dir: string,
  options: { backend?: BackendChoice; build?: BuildModel } = {},
): Promise<CompiledModel> {
  if (!existsSync(dir)) return notSaved(dir, "no such folder");
  if (!statSync(dir).isDirectory()) return notSaved(dir, "is a file, not a model folder");
  const required = [MODEL_FILES.ir, MODEL_FILES.topology, MODEL_FILES.weights];
  const missing = required.filter((f) => !existsSync(join(dir, f)));
  if (missing.length === 1 && missing[0] === MODEL_FILES.ir) {
    return notSaved(
      dir,
      `${MODEL_FILES.ir} is missing beside ${MODEL_FILES.topology} and ${MODEL_FILES.weights}: an unfinished ` +
        `save (${MODEL_FILES.ir} is written last) or not an nnc model; save or train it again`,
    );
  }
  if (missing.length > 0) {
    return notSaved(
      dir,
      `not a saved nnc model: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing ` +
        "(nnc train writes a model into its --out folder)",
    );
  }
  const program = readProgram(dir);
  const weights = readSavedWeights(dir, program);
  const backend = await selectBackend(options.backend ?? "auto");
  const build = options.build ?? buildModel;
  const model = build(program, {
    model: program.models[0]!.name,
    seed: program.train.seed,
    backend: backend.name,
  });
  model.setWeights(Object.fromEntries(weights));
  return model;
}
