// nnc train FILE: compile, claim the output folder, load the data, pick the backend, train with progress and
// per-epoch checkpoints, then save the model (TensorFlow.js Layers format), the IR, the history and a run
// manifest into --out.
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { checkDataSource, loadDataset, resolveDataPaths } from "../../data/index.ts";
import { fail } from "../../diagnostics/index.ts";
import type { Program, Train } from "../../ir/schema.ts";
import { withTrainOverrides } from "../../ir/train-overrides.ts";
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
import { EXIT } from "../exit.ts";
import { TrainingProgress } from "../progress.ts";
import { compileSpec, pickModel } from "../spec.ts";

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
  threads?: number | "auto";
  out?: string;
  resume?: boolean;
  force?: boolean;
  evalTrain?: boolean;
  strict?: boolean;
}

/** The program's train settings with the command line's overrides applied. */
function applyOverrides(train: Train, opts: TrainOptions): Train {
  // A different --data source keeps the options written for the spec's source (limit, validation).
  return withTrainOverrides(train, {
    data: { source: opts.data, limit: opts.limit },
    epochs: opts.epochs,
    batch: opts.batch,
    seed: opts.seed,
    optimizer: { lr: opts.lr },
    bnstats: { mode: opts.bnstats },
  });
}

const isRunFolder = (dir: string) => existsSync(join(dir, "ir.json")) || hasCheckpoint(dir);

/** A path that exists and is not a folder: E607, before anything is trained into it. */
function requireFolderOrAbsent(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) fail("E607", { path: dir });
}

/**
 * Claims `dir` for this run: true when this call created it. mkdirSync without `recursive` fails with EEXIST
 * when the folder exists, so of two runs started at once only one gets a fresh folder.
 */
function claim(dir: string): boolean {
  try {
    mkdirSync(dir);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/**
 * The output folder, claimed: --out, or runs/<spec>[-<model>] numbered past every folder that already exists
 * (never overwrite work, never share a folder with a concurrent run). `fresh`: this run created it.
 */
export function claimOutDir(
  file: string,
  modelName: string,
  several: boolean,
  opts: Pick<TrainOptions, "out" | "resume" | "force">,
  runs = "runs",
): { dir: string; fresh: boolean } {
  if (opts.out !== undefined) {
    requireFolderOrAbsent(opts.out);
    if (isRunFolder(opts.out) && !opts.resume && !opts.force) fail("E606", { dir: opts.out });
    const fresh = !existsSync(opts.out);
    mkdirSync(opts.out, { recursive: true });
    return { dir: opts.out, fresh };
  }
  const stem = basename(file, extname(file)) + (several ? `-${modelName}` : "");
  const base = join(runs, stem);
  if (opts.resume) {
    // The most recently written matching run.
    const candidates = existsSync(runs)
      ? readdirSync(runs)
          .filter(
            (d) => d === stem || new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d+$`).test(d),
          )
          .map((d) => join(runs, d))
          .filter(hasCheckpoint)
      : [];
    if (candidates.length === 0)
      fail("E602", { dir: base, detail: "no earlier run with a checkpoint was found" });
    return { dir: candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!, fresh: false };
  }
  mkdirSync(runs, { recursive: true });
  if (opts.force) {
    requireFolderOrAbsent(base);
    return { dir: base, fresh: claim(base) };
  }
  for (let i = 1; ; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    if (claim(dir)) return { dir, fresh: true };
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export async function trainCommand(io: CliIO, file: string, opts: TrainOptions): Promise<number> {
  const compiled = await compileSpec(io, file, { strict: opts.strict ?? false });
  if (!compiled) return EXIT.errors;
  const modelIR = pickModel(compiled.program, opts.model, file);
  const train = applyOverrides(compiled.program.train, opts);
  const program: Program = { ...compiled.program, train };

  const outputs = modelIR.layers.at(-1)!.outputShape!;
  const input = modelIR.layers[0]!;
  // Paths written in a spec are relative to the spec (like imports); a --data path to the working directory.
  // They are made absolute here, so the IR saved with the model still finds its data from anywhere.
  train.data = resolveDataPaths(train.data, opts.data === undefined ? dirname(file) : process.cwd());
  checkDataSource(train.data); // fails fast (unknown source, not installed) before any work
  const fingerprint = checkpointFingerprint(program, modelIR.name);

  // The folder is chosen and claimed before the long steps (data, backend), so a bad --out fails at once.
  const { dir: outDir, fresh } = claimOutDir(file, modelIR.name, compiled.program.models.length > 1, opts);
  let resumeFrom: TrainState | undefined;
  let dataset: Awaited<ReturnType<typeof loadDataset>>;
  let backend: Awaited<ReturnType<typeof selectBackend>>;
  try {
    if (opts.resume) {
      resumeFrom = readCheckpoint(outDir, fingerprint);
      if (resumeFrom.epochsDone > train.epochs) {
        fail("E602", {
          dir: outDir,
          detail:
            `the run already has ${plural(resumeFrom.epochsDone, "epoch")} and ` +
            `${opts.epochs !== undefined ? "--epochs" : "the spec"} asks for ${train.epochs}; ask for more with --epochs`,
        });
      }
    }
    dataset = await loadDataset(train.data, {
      expect: {
        inputShape: input.op === "input" ? input.shape : [],
        numClasses: outputs.at(-1)! === 1 ? 2 : outputs.at(-1)!,
      },
    });
    backend = await selectBackend(opts.backend);
  } catch (e) {
    // Nothing was written: give the folder back rather than leave an empty numbered run behind.
    if (fresh) {
      try {
        rmdirSync(outDir);
      } catch {
        // Not empty after all: keep it.
      }
    }
    throw e;
  }
  if (resumeFrom) io.err(`resuming ${outDir} after epoch ${resumeFrom.epochsDone} of ${train.epochs}\n`);

  io.err(
    `training '${modelIR.name}' from ${file} on ${dataset.source}: ${dataset.train.count.toLocaleString("en-US")} train, ` +
      `${dataset.validation.count.toLocaleString("en-US")} ${dataset.validationName} samples\n` +
      `backend: ${backend.detail}\n` +
      `${train.optimizer.type} lr=${train.optimizer.lr}, batch ${train.batch}, ${plural(train.epochs, "epoch")}, seed ${train.seed}, ` +
      `batch-norm statistics: ${train.bnstats.mode}\n` +
      `output: ${outDir}\n`,
  );

  const model = buildModel(program, { model: modelIR.name, seed: train.seed, backend: backend.name });
  const startedAt = new Date();
  const progress = new TrainingProgress(io, train.epochs);
  const samplesPerEpoch = dataset.train.count;
  let interrupted = false;
  let saved = resumeFrom?.epochsDone ?? 0; // epochs in the checkpoint on disk
  const onSigint = () => {
    interrupted = true;
    progress.stop();
    io.err(
      saved > 0
        ? `\ninterrupted: epoch ${saved} (the last finished one) is saved; continue with\n` +
            `  nnc train ${file} --resume --out ${outDir}\n`
        : "\ninterrupted before the first epoch finished: nothing to resume from (a checkpoint is written " +
            "after each finished epoch)\n",
    );
    process.exit(130);
  };
  process.once("SIGINT", onSigint);
  try {
    const history = await model.fit(dataset, {
      evalTrain: opts.evalTrain ?? false,
      threads: opts.threads ?? "auto",
      onStart: ({ threads }) => {
        if (threads > 1)
          io.err(`threads: ${threads} (data-parallel: each thread trains its share of every batch)\n`);
      },
      ...(resumeFrom ? { resumeFrom } : {}),
      onBatchEnd: (e) => progress.batch(e, samplesPerEpoch),
      onEpochEnd: (record, state) => {
        progress.epoch(record);
        writeCheckpoint(outDir, state(), { fingerprint });
        saved = record.epoch;
      },
    });
    const manifest = makeManifest({
      specFile: file,
      specHash: compiled.source.sha256,
      model: modelIR.name,
      train,
      backend: backend.name,
      ...(history.threads !== undefined ? { threads: history.threads } : {}),
      data: dataset.description,
      startedAt,
      argv: process.argv.slice(2),
    });
    saveModel(model, outDir, { history, manifest });
    for (const note of history.notes ?? []) io.err(`note: ${note}\n`);
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
    return EXIT.ok;
  } finally {
    if (!interrupted) process.removeListener("SIGINT", onSigint);
    progress.stop();
    model.dispose();
  }
}
