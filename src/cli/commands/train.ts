// nnc train FILE: compile, load the data, pick the backend, train with progress and per-epoch checkpoints,
// then save the model (TensorFlow.js Layers format), the IR, the history and a run manifest into --out.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { checkDataSource, loadDataset } from "../../data/index.ts";
import { fail } from "../../diagnostics/index.ts";
import type { DataRef, Program, Train } from "../../ir/schema.ts";
import { buildModel } from "../../lower/index.ts";
import { selectBackend } from "../../runtime/backend.ts";
import type { BackendChoice, TrainState } from "../../runtime/types.ts";
import {
  INFERENCE_DIR,
  checkpointFingerprint,
  hasCheckpoint,
  readCheckpoint,
  saveModel,
  writeCheckpoint,
} from "../../save/index.ts";
import { makeManifest } from "../../save/manifest.ts";
import type { CliIO } from "../io.ts";
import { TrainingProgress } from "../progress.ts";
import { compileForCommand, pickModel } from "../spec.ts";

export interface TrainOptions {
  model?: string;
  data?: string;
  epochs?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  limit?: number;
  bnstats?: "exact" | "ema";
  backend: BackendChoice;
  out?: string;
  resume?: boolean;
  force?: boolean;
  evalTrain?: boolean;
  strict?: boolean;
}

/** The program's train settings with the command line's overrides applied. */
export function applyOverrides(train: Train, opts: TrainOptions): Train {
  const data = { ...train.data };
  if (opts.data !== undefined) {
    // A different source: options written for the spec's source (limit, validation) still apply.
    data.source = opts.data;
    delete data.span;
  }
  if (opts.limit !== undefined) data.limit = opts.limit;
  return {
    ...train,
    data,
    ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
    ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.lr !== undefined ? { optimizer: { ...train.optimizer, lr: opts.lr } } : {}),
    ...(opts.bnstats !== undefined ? { bnstats: { ...train.bnstats, mode: opts.bnstats } } : {}),
  };
}

function absoluteDataPath(data: DataRef, baseDir: string): DataRef {
  const m = /^(idx|csv):(.+)$/.exec(data.source);
  return m && !isAbsolute(m[2]!) ? { ...data, source: `${m[1]}:${resolve(baseDir, m[2]!)}` } : data;
}

const isRunFolder = (dir: string) => existsSync(join(dir, "ir.json")) || hasCheckpoint(dir);

/** --out, or runs/<spec>[-<model>] numbered past folders that already hold a run (never overwrite work). */
function chooseOutDir(file: string, modelName: string, several: boolean, opts: TrainOptions): string {
  if (opts.out !== undefined) {
    if (isRunFolder(opts.out) && !opts.resume && !opts.force) fail("E606", { dir: opts.out });
    return opts.out;
  }
  const stem = basename(file, extname(file)) + (several ? `-${modelName}` : "");
  const base = join("runs", stem);
  if (opts.resume) {
    // The most recently written matching run.
    const candidates = existsSync("runs")
      ? readdirSync("runs")
          .filter(
            (d) => d === stem || new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d+$`).test(d),
          )
          .map((d) => join("runs", d))
          .filter(hasCheckpoint)
      : [];
    if (candidates.length === 0)
      fail("E602", { dir: base, detail: "no earlier run with a checkpoint was found" });
    return candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
  }
  if (!existsSync(base) || !isRunFolder(base) || opts.force) return base;
  for (let i = 2; ; i++) if (!isRunFolder(`${base}-${i}`)) return `${base}-${i}`;
}

export async function trainCommand(io: CliIO, file: string, opts: TrainOptions): Promise<number> {
  const compiled = await compileForCommand(io, file, { strict: opts.strict ?? false });
  if (!compiled) return 1;
  const modelIR = pickModel(compiled, opts.model, file);
  const train = applyOverrides(compiled.train, opts);
  const program: Program = { ...compiled, train };

  const outputs = modelIR.layers.at(-1)!.outputShape!;
  const input = modelIR.layers[0]!;
  // Paths written in a spec are relative to the spec (like imports); a --data path to the working directory.
  // They are made absolute here, so the IR saved with the model still finds its data from anywhere.
  train.data = absoluteDataPath(train.data, opts.data === undefined ? dirname(file) : process.cwd());
  checkDataSource(train.data); // fails fast (unknown source, not installed) before any work
  const dataset = await loadDataset(train.data, {
    expect: {
      inputShape: input.op === "input" ? input.shape : [],
      numClasses: outputs.at(-1)! === 1 ? 2 : outputs.at(-1)!,
    },
  });
  const backend = await selectBackend(opts.backend);
  const outDir = chooseOutDir(file, modelIR.name, compiled.models.length > 1, opts);
  const specHash = createHash("sha256").update(readFileSync(file)).digest("hex");
  const fingerprint = checkpointFingerprint(program, modelIR.name);

  let resumeFrom: TrainState | undefined;
  if (opts.resume) {
    resumeFrom = readCheckpoint(outDir, fingerprint);
    io.err(`resuming ${outDir} after epoch ${resumeFrom.epochsDone} of ${train.epochs}\n`);
  }

  io.err(
    `training '${modelIR.name}' from ${file} on ${dataset.source}: ${dataset.train.count.toLocaleString("en-US")} train, ` +
      `${dataset.validation.count.toLocaleString("en-US")} ${dataset.validationName} samples\n` +
      `backend: ${backend.detail}\n` +
      `${train.optimizer.type} lr=${train.optimizer.lr}, batch ${train.batch}, ${train.epochs} epochs, seed ${train.seed}, ` +
      `batch-norm statistics: ${train.bnstats.mode}\n` +
      `output: ${outDir}\n`,
  );

  const model = buildModel(program, { model: modelIR.name, seed: train.seed, backend: backend.name });
  const startedAt = new Date();
  const progress = new TrainingProgress(io, train.epochs);
  const samplesPerEpoch = dataset.train.count;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    progress.stop();
    io.err(
      `\ninterrupted: the last finished epoch is saved; continue with\n  nnc train ${file} --resume --out ${outDir}\n`,
    );
    process.exit(130);
  };
  process.once("SIGINT", onSigint);
  try {
    const history = await model.fit(dataset, {
      evalTrain: opts.evalTrain ?? false,
      ...(resumeFrom ? { resumeFrom } : {}),
      onBatchEnd: (e) => progress.batch(e, samplesPerEpoch),
      onEpochEnd: (record, state) => {
        progress.epoch(record);
        writeCheckpoint(outDir, state(), { fingerprint });
      },
    });
    const manifest = makeManifest({
      specFile: file,
      specHash,
      model: modelIR.name,
      train,
      backend: backend.name,
      data: dataset.description,
      startedAt,
      argv: process.argv.slice(2),
    });
    saveModel(model, outDir, { history, manifest });
    const last = history.epochs.at(-1);
    if (last) {
      io.err(
        `\n${dataset.validationName} accuracy ${(last.valAccuracy * 100).toFixed(2)}%, loss ${last.valLoss.toFixed(4)} ` +
          `(${dataset.validation.count} samples, population batch-norm statistics)\n`,
      );
    }
    io.err(
      `saved to ${outDir}/ (model.json + weights.bin for tf.loadLayersModel, ir.json, history.json, manifest.json)\n` +
        (existsSync(join(outDir, INFERENCE_DIR))
          ? `inference export with batch norm folded into the layers before it: ${join(outDir, INFERENCE_DIR)}/\n`
          : ""),
    );
    return 0;
  } finally {
    if (!interrupted) process.removeListener("SIGINT", onSigint);
    progress.stop();
    model.dispose();
  }
}
