// Saving: a trained CompiledModel <-> a model folder. The folder holds model.json + weights.bin in the
// TensorFlow.js Layers format (tf.loadLayersModel reads them), ir.json (the checked program nnc rebuilds the
// model from), and, when given, history.json and manifest.json. Each file is replaced atomically. A model
// trained on raw values divided by k (image bytes: 255) is saved with that scale as a Keras Rescaling layer
// after its input (input-scale.ts), so model.json takes raw values; nnc's own model (ir.json) takes them scaled.
import { closeSync, existsSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { compileIR } from "../compile.ts";
import { NncError, diagnostic, fail, type Diagnostic } from "../diagnostics/index.ts";
import type { Program } from "../ir/schema.ts";
import { buildModel, foldBatchNorm } from "../lower/index.ts";
import { selectBackend } from "../runtime/backend.ts";
import type { BackendChoice, BackendName, CompiledModel, History, WeightData } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { writeFileAtomic } from "./atomic.ts";
import { bytesOf, packTensors, readTensors, type TensorEntry } from "./blob.ts";
import {
  MAX_JSON_BYTES,
  MAX_WEIGHT_BYTES,
  formatBytes,
  isPlainFileName,
  openFolderFile,
  readFolderFile,
  readFully,
  requireFolderFile,
  resolveFolderFile,
  shownName,
  type FolderFile,
} from "./folder-file.ts";
import { ModelJsonSchema, checkSchema, type ModelJson } from "./schemas.ts";
import { kerasTopology, kerasWeights } from "./keras.ts";
import { inputScaleOf, isInputScale, withInputScale } from "./input-scale.ts";
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

type WeightsManifestGroup = ModelJson["weightsManifest"][number];

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
  inputScale: number,
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
      modelTopology: withInputScale(kerasTopology(model, generatedBy), inputScale),
      weightsManifest,
    }),
  );
}

/** A model loaded from a folder: what it was saved with besides its program and weights. */
export interface LoadedModel extends CompiledModel {
  /**
   * The divisor of raw inputs the model was trained with (Dataset.scale: 255 for image bytes, 1 for values
   * used as they are), read from model.json's leading Rescaling layer. `predict` takes values already divided
   * by it; model.json, for tf.loadLayersModel, takes raw ones.
   */
  readonly inputScale: number;
}

export interface SaveExtras {
  history?: History;
  manifest?: RunManifest;
  /**
   * The divisor of raw inputs the model was trained with (its dataset's `train.scale`): model.json gets a
   * Rescaling(scale=1/inputScale) layer after its input when it is not 1. Default: a loaded model's own
   * inputScale, else 1.
   */
  inputScale?: number;
}

/**
 * Saves a model folder: the trainable model (Keras layers and names, batchnorm layers included), and, when the
 * model has a batchnorm right after a dense/conv2d, `inference/` beside it: the same model for inference only,
 * with each such batchnorm folded into the layer before it (fewer layers, same predictions within 1e-5; see
 * foldBatchNorm), a model folder of its own with the folded program as its ir.json. ir.json is removed first and written last: its presence marks a complete save, also over an
 * older one.
 */
export function saveModel(model: CompiledModel, dir: string, extras: SaveExtras = {}): void {
  const inputScale = extras.inputScale ?? (model as Partial<LoadedModel>).inputScale ?? 1;
  if (!isInputScale(inputScale)) throw new Error(`inputScale ${inputScale} is not a finite number above 0`);
  const weights = readWeights(model);
  // ir.json marks a complete save: over an older save it goes first, so a crash part-way leaves a folder that
  // load refuses rather than the old ir.json beside new weights.
  rmSync(join(dir, MODEL_FILES.ir), { force: true });
  writeLayersModel(dir, model.model, weights, inputScale);
  const folded = foldBatchNorm(savedProgram(model), Object.fromEntries(weights));
  if (folded.folded.length > 0) {
    const inference = folded.program.models[0]!;
    const order = kerasWeights(inference).map(({ name }): [string, WeightData] => [
      name,
      folded.weights[name]!,
    ]);
    // inference/ is a model folder of its own (nnc predict / eval load it): its ir.json, the folded program,
    // also goes first and comes last.
    const inferenceDir = join(dir, INFERENCE_DIR);
    rmSync(join(inferenceDir, MODEL_FILES.ir), { force: true });
    writeLayersModel(inferenceDir, inference, order, inputScale);
    writeFileAtomic(join(inferenceDir, MODEL_FILES.ir), json(folded.program));
  } else {
    rmSync(join(dir, INFERENCE_DIR), { recursive: true, force: true });
  }
  if (extras.history) writeFileAtomic(join(dir, MODEL_FILES.history), json(extras.history));
  if (extras.manifest) writeFileAtomic(join(dir, MODEL_FILES.manifest), json(extras.manifest));
  writeFileAtomic(join(dir, MODEL_FILES.ir), json(savedProgram(model)));
}

const notSaved = (dir: string, detail: string): never => fail("E603", { dir, detail });

function parseJson(dir: string, file: FolderFile): unknown {
  try {
    return JSON.parse(readFolderFile(file, MAX_JSON_BYTES, file.name).toString("utf8"));
  } catch (e) {
    if (e instanceof NncError) throw e;
    return notSaved(dir, `${file.name} is not valid JSON (${(e as Error).message}); the save may be damaged`);
  }
}

/**
 * The program in ir.json, read as any IR JSON is (compileIR: JSON, schema, then the checker, which recomputes
 * every shape and parameter count rather than trusting the file's): a hand-edited or damaged ir.json is E603,
 * not a failure deep in the lowering.
 */
function readProgram(dir: string, file: FolderFile): Program {
  const text = readFolderFile(file, MAX_JSON_BYTES, MODEL_FILES.ir).toString("utf8");
  const { program, diagnostics } = compileIR(text, { filename: file.shown });
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

const manifestAt = (group: number) => `${MODEL_FILES.topology}'s weightsManifest[${group}]`;

/**
 * Checks, before any weight file is looked at, that the manifest describes exactly the weights ir.json's model
 * needs: names, shapes, float32, each once.
 */
function checkManifestWeights(dir: string, groups: WeightsManifestGroup[], program: Program): void {
  const expected = new Map(kerasWeights(program.models[0]!).map((w) => [w.name, w.shape] as const));
  const seen = new Set<string>();
  groups.forEach((group, i) => {
    for (const w of group.weights) {
      if (seen.has(w.name)) {
        fail("E015", { dir, source: manifestAt(i), name: `the weight ${shownName(w.name)}` });
      }
      seen.add(w.name);
      const shape = expected.get(w.name);
      if (!shape) {
        return notSaved(
          dir,
          `${MODEL_FILES.topology} names the weight ${shownName(w.name)}, which ${MODEL_FILES.ir}'s model does not have`,
        );
      }
      // From here on the name is one of the model's, safe to print as it is.
      if (w.dtype !== "float32") {
        return notSaved(dir, `weight ${w.name} is ${shownName(w.dtype)}; nnc saves float32 only`);
      }
      if (!sameShape(w.shape, shape)) {
        return notSaved(
          dir,
          `${w.name} is saved with shape [${w.shape.join(", ")}] but ${MODEL_FILES.ir}'s model needs [${shape.join(", ")}]`,
        );
      }
    }
  });
  for (const name of expected.keys()) {
    if (!seen.has(name))
      notSaved(dir, `${MODEL_FILES.weights} lacks ${name}, which ${MODEL_FILES.ir}'s model needs`);
  }
}

/**
 * The files of each group, resolved through resolveFolderFile: every name checked (plain, and each file named
 * once in the whole manifest) before any is looked up, and each group's total size equal to what its weights'
 * shapes describe before any is read. Also nnc import --weights' door to a tfjs model.json's .bin files.
 */
export function resolveWeightFiles(dir: string, groups: WeightsManifestGroup[]): FolderFile[][] {
  const names = new Set<string>();
  groups.forEach((group, i) =>
    group.paths.forEach((name, k) => {
      const source = `${manifestAt(i)}.paths[${k}]`;
      if (!isPlainFileName(name)) fail("E010", { dir, source, name: shownName(name) });
      if (names.has(name)) fail("E015", { dir, source: `${MODEL_FILES.topology}'s weightsManifest`, name });
      names.add(name);
    }),
  );
  return groups.map((group, i) => {
    const files = group.paths.map((name, k) =>
      requireFolderFile(dir, name, `${manifestAt(i)}.paths[${k}]`, (shown) =>
        notSaved(dir, `missing ${shown} (named in ${MODEL_FILES.topology})`),
      ),
    );
    const size = files.reduce((n, f) => n + f.size, 0);
    const expected = bytesOf(group.weights);
    if (size !== expected) {
      const shown = files.length <= 3 ? files.map((f) => f.shown).join(" + ") : `${files[0]!.shown} + ...`;
      fail("E013", { file: shown, size, expected, source: manifestAt(i) });
    }
    return files;
  });
}

/** Reads one group's weights, tensor by tensor, from its files taken as one stream of bytes. */
export function readGroup(group: WeightsManifestGroup, files: FolderFile[]): Map<string, WeightData> {
  const fds: number[] = [];
  try {
    for (const f of files) fds.push(openFolderFile(f));
    let file = 0;
    let position = 0;
    return readTensors(group.weights, (bytes) => {
      let done = 0;
      while (done < bytes.byteLength) {
        const left = files[file]!.size - position;
        if (left === 0) {
          file++;
          position = 0;
          continue;
        }
        const n = Math.min(left, bytes.byteLength - done);
        if (!readFully(fds[file]!, bytes.subarray(done, done + n), position)) {
          fail("E012", { file: files[file]!.shown, kind: "a file that changed while nnc was reading it" });
        }
        done += n;
        position += n;
      }
    });
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** W030 when weights hold NaN or infinite values (random bytes, a diverged run): outputs will be NaN. */
function nonFiniteWarning(dir: string, weights: Map<string, WeightData>): Diagnostic | undefined {
  let count = 0;
  let first = "";
  for (const [name, { data }] of weights) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        if (count === 0) first = name;
        count++;
      }
    }
  }
  if (count === 0) return undefined;
  return diagnostic("W030", { file: join(dir, MODEL_FILES.weights), count, first });
}

/**
 * model.json's weightsManifest: at most MAX_JSON_BYTES of JSON, matching its schema, describing at most
 * MAX_WEIGHT_BYTES of weights (E014, before ir.json or any weight file is read).
 */
function readManifest(
  dir: string,
  topology: FolderFile,
): { groups: WeightsManifestGroup[]; inputScale: number } {
  const modelJson = parseJson(dir, topology);
  const { weightsManifest: groups } = checkSchema(ModelJsonSchema, modelJson, topology.shown);
  const inputScale = inputScaleOf((modelJson as { modelTopology?: unknown }).modelTopology, topology.shown);
  const total = groups.reduce((n, g) => n + bytesOf(g.weights), 0);
  if (total > MAX_WEIGHT_BYTES) {
    fail("E014", {
      file: topology.shown,
      what: "the weights its weightsManifest describes",
      size: formatBytes(total),
      limit: formatBytes(MAX_WEIGHT_BYTES),
    });
  }
  return { groups, inputScale };
}

/** The weights the manifest points at, checked against what the program's layers need, then read. */
function readSavedWeights(
  dir: string,
  groups: WeightsManifestGroup[],
  program: Program,
): Map<string, WeightData> {
  checkManifestWeights(dir, groups, program);
  const files = resolveWeightFiles(dir, groups);
  const weights = new Map<string, WeightData>();
  groups.forEach((group, i) => {
    for (const [name, w] of readGroup(group, files[i]!)) weights.set(name, w);
  });
  return weights;
}

export interface LoadModelOptions {
  backend?: BackendChoice;
  build?: BuildModel;
  /** Told about what loads but deserves a warning (W030: weights that are NaN or infinite). */
  onWarning?: (warning: Diagnostic) => void;
}

/**
 * Rebuilds a model saved by saveModel: the program from ir.json, the weights from model.json + weights.bin.
 * Every file is read through folder-file.ts, so nothing outside `dir` is opened (docs/security.md).
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  if (typeof dir !== "string" || dir === "")
    return notSaved(String(dir), "a model folder is named by its path");
  let stats;
  try {
    stats = statSync(dir);
  } catch {
    return notSaved(dir, "no such folder");
  }
  if (!stats.isDirectory()) return notSaved(dir, "is a file, not a model folder");
  const required = [MODEL_FILES.ir, MODEL_FILES.topology, MODEL_FILES.weights] as const;
  const [ir, topology, weightsFile] = required.map((name) => resolveFolderFile(dir, name, "nnc"));
  const missing = required.filter((_, i) => [ir, topology, weightsFile][i] === undefined);
  if (missing.length === 1 && missing[0] === MODEL_FILES.ir) {
    const parent = dirname(resolve(dir));
    if (basename(resolve(dir)) === INFERENCE_DIR && existsSync(join(parent, MODEL_FILES.ir))) {
      return notSaved(
        dir,
        `this inference export has no ${MODEL_FILES.ir} (nnc writes one there since issue 18; this one was ` +
          `saved before): load the model folder above it, ${parent}, which predicts the same, or save it again`,
      );
    }
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
  const { groups, inputScale } = readManifest(dir, topology!);
  const program = readProgram(dir, ir!);
  const weights = readSavedWeights(dir, groups, program);
  const warning = nonFiniteWarning(dir, weights);
  const backend = await selectBackend(options.backend ?? "auto");
  const build = options.build ?? buildModel;
  const model = build(program, {
    model: program.models[0]!.name,
    seed: program.train.seed,
    backend: backend.name,
  });
  model.setWeights(Object.fromEntries(weights));
  if (warning) options.onWarning?.(warning);
  return Object.assign(model, { inputScale });
}
