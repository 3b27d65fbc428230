// Importing weights (nnc import --weights -o DIR): the .bin files a TensorFlow.js model.json's weightsManifest
// names -> a model folder nnc loads (nnc eval / predict DIR; nnc train SPEC --init-from DIR). The files are
// read only through src/save/ (plain names inside the JSON's folder, no links out, regular files, sizes equal
// to what the manifest describes before anything is read; docs/security.md), float32 only. Each Keras weight
// is found by name, `<Keras layer>/<weight>` (kernel, bias, gamma, beta, moving_mean, moving_variance: what
// each op's kerasWeights lists), and stored under the imported layer's nnc name.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { fail } from "../diagnostics/index.ts";
import { buildModel } from "../lower/index.ts";
import { selectBackend } from "../runtime/backend.ts";
import type { BackendChoice, WeightData } from "../runtime/types.ts";
import { kerasWeights } from "../save/keras.ts";
import { readGroup, resolveWeightFiles, saveModel } from "../save/model.ts";
import { MAX_WEIGHT_BYTES, formatBytes, shownName } from "../save/folder-file.ts";
import { bytesOf } from "../save/blob.ts";
import { ModelJsonSchema, checkSchema } from "../save/schemas.ts";
import type { ImportResult } from "./import.ts";

export interface ImportWeightsOptions {
  /** The model.json the weights manifest came from: its folder holds the .bin files. */
  modelJson: string;
  /** The model folder to write. */
  dir: string;
  /** Write into a folder that holds files already. */
  force: boolean;
  backend?: BackendChoice;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The imported model's weights, by nnc weight name, read from the manifest's files. E746 for a manifest
 * without a weight the model needs, or with one of another shape or dtype.
 */
export function readImportedWeights(result: ImportResult, modelJson: string): Map<string, WeightData> {
  const root = result.graph!.root;
  const err = (detail: string): never => fail("E746", { file: modelJson, detail });
  if (root["weightsManifest"] === undefined) {
    err(
      "has no weightsManifest: --weights reads a TensorFlow.js model.json and the .bin files it names " +
        "(tfjs-layers' model.save or tensorflowjs_converter write them); Keras' to_json() holds no weights",
    );
  }
  const quantized = JSON.stringify(root["weightsManifest"]).includes('"quantization"');
  if (quantized) err("its weights are quantized; nnc imports float32 weights (convert without --quantize_*)");
  const { weightsManifest: groups } = checkSchema(
    ModelJsonSchema,
    { weightsManifest: root["weightsManifest"] },
    modelJson,
  );
  for (const group of groups) {
    for (const w of group.weights) {
      if (w.dtype !== "float32") {
        err(`weight ${shownName(w.name)} is ${shownName(w.dtype)}; nnc imports float32 weights`);
      }
    }
  }
  const total = groups.reduce((n, g) => n + bytesOf(g.weights), 0);
  if (total > MAX_WEIGHT_BYTES) {
    err(
      `its weightsManifest describes ${formatBytes(total)} of weights, over nnc's ${formatBytes(MAX_WEIGHT_BYTES)}`,
    );
  }
  // Which manifest entry holds each weight the model needs: `<layer>/<weight>`, also under a prefix
  // (`model/dense/kernel`, as some converters write).
  const program = result.program!;
  const model = program.models[0]!;
  const kerasOf = new Map(result.layers!.map((l) => [l.nnc, l]));
  const entries = groups.flatMap((g, gi) => g.weights.map((w) => ({ ...w, group: gi })));
  const wanted = kerasWeights(model).map(({ name, shape }) => {
    const slash = name.lastIndexOf("/");
    const layer = kerasOf.get(name.slice(0, slash))!;
    const keras = `${layer.keras}/${name.slice(slash + 1)}`;
    const found = entries.find((e) => e.name === keras) ?? entries.find((e) => e.name.endsWith(`/${keras}`));
    if (!found) {
      err(
        `its weightsManifest has no ${keras} [${shape.join(", ")}], which layer '${layer.keras}' ` +
          `(${layer.className}) needs`,
      );
    }
    if (!sameShape(found!.shape, shape)) {
      err(
        `${found!.name} has shape [${found!.shape.join(", ")}], but layer '${layer.keras}' ` +
          `(${layer.className}) as imported needs [${shape.join(", ")}]`,
      );
    }
    return { nnc: name, manifest: found!.name };
  });
  const files = resolveWeightFiles(dirname(modelJson), groups);
  const read = new Map<string, WeightData>();
  groups.forEach((group, i) => {
    for (const [name, w] of readGroup(group, files[i]!)) read.set(name, w);
  });
  return new Map(wanted.map((w) => [w.nnc, read.get(w.manifest)!]));
}

/**
 * Writes the imported model with its weights as an nnc model folder (saveModel: model.json + weights.bin,
 * ir.json, the inference/ export with batchnorm folded, the input scale as a leading Rescaling). The folder
 * must be new or empty, unless `force`.
 */
export async function importWeights(
  result: ImportResult,
  options: ImportWeightsOptions,
): Promise<{ weights: number }> {
  const weights = readImportedWeights(result, options.modelJson);
  const { dir } = options;
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) fail("E007", { file: dir, reason: "it is a file, not a folder" });
    if (readdirSync(dir).length > 0 && !options.force) {
      fail("E746", {
        file: options.modelJson,
        detail: `-o ${dir} holds files already: name a new folder, or pass --force to write into it`,
      });
    }
  }
  mkdirSync(dir, { recursive: true });
  const program = result.program!;
  const backend = await selectBackend(options.backend ?? "auto");
  const model = buildModel(program, {
    model: program.models[0]!.name,
    seed: program.train.seed,
    backend: backend.name,
  });
  model.setWeights(Object.fromEntries(weights));
  saveModel(model, dir, { inputScale: result.inputScale });
  return { weights: weights.size };
}
