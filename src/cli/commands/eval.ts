// nnc eval DIR / nnc predict DIR: use a model saved by `nnc train` (inference mode: population batch-norm
// statistics, no dropout) on its data's held-out split, another source, or samples from a JSON file.
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { SOURCES, loadDataset, rowsAsFloat32 } from "../../data/index.ts";
import type { Split } from "../../data/types.ts";
import { fail, renderDiagnostic } from "../../diagnostics/index.ts";
import { lossTypeFor, outputActivation } from "../../ir/loss-rules.ts";
import type { DataRef } from "../../ir/schema.ts";
import { selectBackend } from "../../runtime/backend.ts";
import { evalBatchOf } from "../../train/evaluate.ts";
import type { BackendChoice, CompiledModel } from "../../runtime/types.ts";
import { loadModel } from "../../save/index.ts";
import { refuseUnfinishedRun } from "../../save/run-folder.ts";
import { printable } from "../../save/folder-file.ts";
import { sizeOf } from "../../util/shape.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";

interface SavedModelOptions {
  data?: string;
  limit?: number;
  backend: BackendChoice;
}

/** Sources that name data nnc ships or installs, never a path: the only ones taken from a model folder. */
const BUILT_IN_SOURCES: readonly string[] = SOURCES.filter((s) => !s.includes(":"));

/**
 * The data to evaluate on: what the user names with --data, else the source the model was trained on, but only
 * when that is a built-in name. A model folder may come from anyone, and its ir.json could name any file on this
 * machine (csv:/etc/passwd): a path from the folder is used only when the user passes it (E018 says how).
 */
export function savedModelData(
  dir: string,
  recorded: DataRef,
  given: string | undefined,
  flag: string,
): DataRef {
  if (given !== undefined) return { ...recorded, source: given };
  if (BUILT_IN_SOURCES.includes(recorded.source.trim().toLowerCase())) return recorded;
  const source = printable(recorded.source);
  return fail("E018", { dir, source, flag: flag.replace("SOURCE", source) });
}

async function open(io: CliIO, dir: string, opts: SavedModelOptions, flag: string) {
  refuseUnfinishedRun(dir); // a checkpoint without a model: E603 saying how to finish it
  const backend = await selectBackend(opts.backend);
  const model = await loadModel(dir, {
    backend: backend.name,
    onWarning: (d) => io.err(renderDiagnostic(d, undefined, { color: io.color }) + "\n"),
  });
  const input = model.model.layers[0]!;
  const inputShape = input.op === "input" ? input.shape : [];
  const units = model.model.layers.at(-1)!.outputShape!.at(-1)!;
  const load = () =>
    loadDataset(savedModelData(dir, model.program.train.data, opts.data, flag), {
      expect: { inputShape, numClasses: units === 1 ? 2 : units },
    });
  return { model, backend, inputShape, load };
}

const head = (split: Split, limit: number | undefined, sampleSize: number): Split => {
  if (limit === undefined || limit >= split.count) return split;
  return {
    x: split.x.subarray(0, limit * sampleSize),
    scale: split.scale,
    y: split.y.subarray(0, limit),
    count: limit,
  };
};

export async function evalCommand(
  io: CliIO,
  dir: string,
  opts: SavedModelOptions & { json?: boolean },
): Promise<number> {
  const { model, backend, inputShape, load } = await open(io, dir, opts, "--data SOURCE");
  try {
    const dataset = await load();
    const split = head(dataset.validation, opts.limit, sizeOf(inputShape));
    const result = model.evaluate(split);
    if (opts.json) {
      io.out(
        JSON.stringify({
          ...result,
          split: dataset.validationName,
          source: dataset.source,
          backend: backend.name,
        }) + "\n",
      );
    } else {
      io.out(
        `${dataset.source} ${dataset.validationName}: accuracy ${(result.accuracy * 100).toFixed(2)}%  ` +
          `loss ${result.loss.toFixed(4)}  (${result.samples} samples, backend ${backend.name})\n`,
      );
    }
    return EXIT.ok;
  } finally {
    model.dispose();
  }
}

/**
 * Samples for `predict --input`: a JSON array of samples, each nested arrays of the input's shape or flat, raw
 * as the data source holds them (pixel bytes 0..255 for image data), divided by the model's input scale
 * (`x / scale` in float64, rounded to float32: the rounding training's batches have). E001 when the file cannot
 * be read, E516 when it is not an array of samples.
 */
function readSamples(file: string, sampleSize: number, scale: number): { x: Float32Array; count: number } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason =
      err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "it is a directory" : err.message;
    return fail("E001", { file, reason });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail("E516", { file, detail: `not JSON: ${(e as Error).message}` });
  }
  if (!Array.isArray(value) || value.length === 0)
    fail("E516", { file, detail: "expected a non-empty JSON array of samples" });
  const x = new Float32Array(value.length * sampleSize);
  value.forEach((sample, i) => {
    const flat = (Array.isArray(sample) ? sample.flat(Infinity) : [sample]) as unknown[];
    if (flat.length !== sampleSize || flat.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
      fail("E516", {
        file,
        detail: `sample ${i} must hold ${sampleSize} finite numbers, got ${flat.length} values`,
      });
    }
    const at = i * sampleSize;
    (flat as number[]).forEach((v, j) => (x[at + j] = v / scale));
  });
  return { x, count: value.length };
}

/**
 * What a model's outputs are, for reading them as classes: probabilities (a softmax, one sigmoid unit), logits
 * (a linear output trained with cross-entropy: softmax or sigmoid turns them into probabilities, as Keras users
 * do by hand), or scores (trained with mse, or neither): a score is no probability and is printed as what it is.
 */
type OutputKind = "probabilities" | "logits" | "scores";

function outputKind(model: CompiledModel): OutputKind {
  const activation = outputActivation(model.model);
  const units = model.model.layers.at(-1)!.outputShape!.at(-1)!;
  if (activation === "softmax" || (activation === "sigmoid" && units === 1)) return "probabilities";
  return activation === "linear" && lossTypeFor(model.model, model.program.train.loss) !== "mse"
    ? "logits"
    : "scores";
}

/** One unit: the probability of class 1; several: one distribution over the classes. */
function probabilitiesOf(logits: number[]): number[] {
  if (logits.length === 1) return [1 / (1 + Math.exp(-logits[0]!))];
  const top = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Class predictions in inference batches (evalBatchOf: a convnet's activations are large per sample). */
function predictClasses(model: CompiledModel, x: Float32Array, count: number, inputShape: number[]) {
  const batch = evalBatchOf(model.model);
  const size = sizeOf(inputShape);
  const kind = outputKind(model);
  const rows: number[][] = [];
  for (let at = 0; at < count; at += batch) {
    const n = Math.min(batch, count - at);
    const chunk = tf.tidy(() =>
      model.predict(tf.tensor(x.subarray(at * size, (at + n) * size), [n, ...inputShape])).arraySync(),
    ) as number[][];
    rows.push(...chunk);
  }
  const predictions = rows.map((outputs) => {
    // NaN outputs (NaN weights, W030) have no class: shown as NaN, not as class 0 or a crash.
    if (outputs.some(Number.isNaN)) return { predicted: null, confidence: NaN, outputs };
    if (kind === "scores") {
      const k = outputs.length === 1 ? (outputs[0]! >= 0.5 ? 1 : 0) : outputs.indexOf(Math.max(...outputs));
      return { predicted: k, score: outputs.length === 1 ? outputs[0]! : outputs[k]!, outputs };
    }
    const p = kind === "logits" ? probabilitiesOf(outputs) : outputs;
    const k = p.length === 1 ? (p[0]! >= 0.5 ? 1 : 0) : p.indexOf(Math.max(...p));
    return {
      predicted: k,
      confidence: p.length === 1 ? (k ? p[0]! : 1 - p[0]!) : p[k]!,
      probabilities: p,
      ...(kind === "logits" ? { logits: outputs } : {}),
    };
  });
  return { kind, predictions };
}

export async function predictCommand(
  io: CliIO,
  dir: string,
  opts: SavedModelOptions & { input?: string; json?: boolean },
): Promise<number> {
  const { model, inputShape, load } = await open(io, dir, opts, "--data SOURCE (or --input FILE.json)");
  try {
    const size = sizeOf(inputShape);
    let x: Float32Array;
    let count: number;
    let labels: ArrayLike<number> | undefined;
    let classNames: string[] | undefined;
    if (opts.input !== undefined) {
      ({ x, count } = readSamples(opts.input, size, model.inputScale));
      // A file the user made: every sample unless --limit says otherwise.
      if (opts.limit !== undefined && opts.limit < count) count = opts.limit;
    } else {
      const dataset = await load();
      const split = head(dataset.validation, opts.limit ?? 10, size);
      count = split.count;
      x = rowsAsFloat32(split, 0, count, size); // scaled: split.x may hold image bytes
      labels = split.y;
      classNames = dataset.classNames;
    }
    const { kind, predictions } = predictClasses(model, x.subarray(0, count * size), count, inputShape);
    const rows = predictions.map((r, i) => ({ index: i, ...(labels ? { label: labels[i]! } : {}), ...r }));
    if (!opts.json && opts.input !== undefined && model.inputScale !== 1) {
      io.err(
        `note: ${opts.input} is read as raw values (as the training data holds them) and divided by ` +
          `${model.inputScale}, the model's input scale\n`,
      );
    }
    if (!opts.json && kind !== "probabilities") {
      io.err(
        kind === "logits"
          ? "note: the model outputs logits; p= is their softmax (sigmoid for one unit), a probability\n"
          : "note: the model's outputs are scores (trained with mse), not probabilities: score= is the top output\n",
      );
    }
    if (opts.json) {
      io.out(JSON.stringify(rows) + "\n");
    } else {
      const name = (k: number | null) =>
        k === null ? "NaN" : classNames?.[k] ? `${k} (${classNames[k]})` : String(k);
      for (const r of rows) {
        const truth =
          r.label === undefined ? "" : `  label ${name(r.label)}${r.label === r.predicted ? "" : "  ✗"}`;
        const figure =
          r.score !== undefined ? `score=${r.score.toFixed(3)}` : `p=${(r.confidence ?? NaN).toFixed(3)}`;
        io.out(`#${r.index}  predicted ${name(r.predicted)}  ${figure}${truth}\n`);
      }
    }
    return EXIT.ok;
  } finally {
    model.dispose();
  }
}
