// nnc train FILE: compile, claim and lock the output folder, load the data, pick the backend, train with
// progress and per-epoch checkpoints, then save the model (TensorFlow.js Layers format), the IR, the history and
// a run manifest into --out. The folder's rules (one run at a time, nnc's own files only, no empty folders left
// by failed starts) are src/save/run-folder.ts's.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { checkDataSource, loadDataset, resolveDataPaths, type Dataset } from "../../data/index.ts";
import { fail, NncError } from "../../diagnostics/index.ts";
import type { Program, Train } from "../../ir/schema.ts";
import { describeOptimizer } from "../../ir/optimizer-defaults.ts";
import { augmentsAnything, describeAugment } from "../../ir/augment.ts";
import { describeEarlyStop, describeSchedule } from "../../ir/schedule.ts";
import { withTrainOverrides } from "../../ir/train-overrides.ts";
import { requireTrainingMemory } from "../../ir/training-memory.ts";
import { buildModel } from "../../lower/index.ts";
import { selectBackend } from "../../runtime/backend.ts";
import type { BackendChoice, CompiledModel, History, TrainState } from "../../runtime/types.ts";
import type { Parallelism } from "../../train/parallel/plan.ts";
import { WriteError } from "../../save/atomic.ts";
import {
  INFERENCE_DIR,
  checkpointFingerprint,
  hasCheckpoint,
  readCheckpoint,
  saveModel,
  writeCheckpoint,
  type Fingerprint,
} from "../../save/index.ts";
import { initFrom, type InitFrom } from "../../save/init-from.ts";
import { makeManifest } from "../../save/manifest.ts";
import {
  claimNewFolder,
  folderContents,
  openRunFolder,
  removeRunFiles,
  type RunFolder,
} from "../../save/run-folder.ts";
import type { CliIO } from "../io.ts";
import { EXIT } from "../exit.ts";
import { TrainingProgress } from "../progress.ts";
import { compileSpec, pickModel } from "../spec.ts";
import { RunTimings } from "../timings.ts";
import type { ReadAhead } from "./train-prefetch.ts";
import { classWeightTable, describeClassWeights } from "../../train/class-weights.ts";

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
  parallel?: Parallelism;
  out?: string;
  resume?: boolean;
  force?: boolean;
  /** A model folder whose weights the model starts from (matched by layer name). */
  initFrom?: string;
  evalTrain?: boolean;
  strict?: boolean;
  /** Print where the time went (start-up, data, training, statistics, evaluation, saving). */
  timings?: boolean;
  /** The spec compiled before this command loaded, to read the data ahead (main.ts; --timings: spec time). */
  ahead?: ReadAhead;
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

/** A path that exists and is not a folder: E607, before anything is trained into it. */
function requireFolderOrAbsent(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) fail("E607", { path: dir });
}

/** A few names of a folder's entries, for a message. */
function listEntries(entries: string[]): string {
  const shown = entries.slice(0, 4).join(", ");
  return entries.length > 4 ? `${shown} and ${entries.length - 4} more` : shown;
}

/**
 * What an existing folder must hold for this run: anything with --resume (the checkpoint decides) or --force
 * (its nnc files are removed just before training), otherwise nothing: an nnc run is E606, other files E641.
 */
function checkContents(folder: RunFolder, opts: Pick<TrainOptions, "resume" | "force">): RunFolder {
  if (opts.resume || opts.force) return folder;
  try {
    const contents = folderContents(folder.dir);
    if (contents.kind === "run") fail("E606", { dir: folder.dir });
    if (contents.kind === "other") {
      fail(
        "E641",
        { dir: folder.dir, entries: listEntries(contents.entries) },
        {
          help:
            "--force removes nnc's own file names there (model.json, weights.bin, ir.json, history.json, " +
            "manifest.json, checkpoint.ckpt, inference/) and keeps everything else",
        },
      );
    }
    return folder;
  } catch (e) {
    folder.abandon();
    throw e;
  }
}

/**
 * The output folder, claimed and locked: --out, or runs/<spec>[-<model>] numbered past every folder that holds
 * something (never overwrite work, never share a folder with a concurrent run). The caller releases it.
 */
export function claimOutDir(
  file: string,
  modelName: string,
  several: boolean,
  opts: Pick<TrainOptions, "out" | "resume" | "force">,
  runs = "runs",
): RunFolder {
  const command = `nnc train ${file}`;
  if (opts.out !== undefined) {
    requireFolderOrAbsent(opts.out);
    return checkContents(openRunFolder(opts.out, command), opts);
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
    const latest = candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
    return openRunFolder(latest, command);
  }
  mkdirSync(runs, { recursive: true });
  if (opts.force) {
    requireFolderOrAbsent(base);
    return openRunFolder(base, command);
  }
  for (let i = 1; ; i++) {
    const folder = claimNewFolder(i === 1 ? base : `${base}-${i}`, command);
    if (folder) return folder;
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Exit codes of a run stopped by a signal: 128 + the signal's number, as shells report it. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

export async function trainCommand(io: CliIO, file: string, opts: TrainOptions): Promise<number> {
  const timings = new RunTimings();
  if (opts.ahead) timings.specBefore(opts.ahead.seconds);
  const compiled = await timings.timeAsync("spec", () =>
    compileSpec(io, file, {
      strict: opts.strict ?? false,
      // Schedules, early stopping and weight decay are checked at the run's --epochs and --lr.
      commandLine: () => ({
        ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
        ...(opts.lr !== undefined ? { lr: opts.lr } : {}),
      }),
      ...(opts.ahead?.compiled ? { compiled: opts.ahead.compiled } : {}),
    }),
  );
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

  /** Epochs in the checkpoint on disk; 0 while there is none. */
  let saved = 0;
  /** Whether this run wrote its model (ir.json and the rest). */
  let savedModel = false;

  // Ctrl-C and kill (SIGTERM) stop the run where it is: the last finished epoch's checkpoint is what remains.
  // (SIGKILL cannot be caught: it leaves the lock, which the next run finds stale and takes over.) Listened for
  // before the folder is claimed: a signal with no listener kills the process at once, so one arriving just
  // after the lock was written (what a script that waits for the lock sends) left the lock and the folder
  // behind. A listener runs only once the synchronous claim below has returned, so `folder` is set by then.
  let stopping = false;
  let progress: TrainingProgress | undefined;
  let folder: ReturnType<typeof claimOutDir> | undefined;
  const onSignal = (signal: keyof typeof SIGNAL_EXIT) => {
    if (!folder) process.exit(SIGNAL_EXIT[signal]);
    stopping = true;
    progress?.stop();
    const what = signal === "SIGINT" ? "interrupted" : "terminated (SIGTERM)";
    io.err(
      saved > 0
        ? `\n${what}: epoch ${saved} (the last finished one) is saved; continue with\n` +
            `  nnc train ${file} --resume --out ${outDir}\n`
        : `\n${what} before the first epoch finished: nothing to resume from (a checkpoint is written ` +
            "after each finished epoch)" +
            (folder.fresh ? `; ${outDir} is removed` : "") +
            "\n",
    );
    if (saved > 0) folder.release();
    else folder.abandon();
    process.exit(SIGNAL_EXIT[signal]);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  // The folder is chosen, locked and checked before the long steps (data, backend), so a bad --out fails at once.
  try {
    folder = claimOutDir(file, modelIR.name, compiled.program.models.length > 1, opts);
  } catch (e) {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    throw e;
  }
  const outDir = folder.dir;

  let model: CompiledModel | undefined;
  try {
    let resumeFrom: TrainState | undefined;
    if (opts.resume) {
      resumeFrom = readCheckpoint(outDir, fingerprint);
      saved = resumeFrom.epochsDone;
      if (resumeFrom.epochsDone > train.epochs) {
        fail("E602", {
          dir: outDir,
          detail:
            `the run already has ${plural(resumeFrom.epochsDone, "epoch")} and ` +
            `${opts.epochs !== undefined ? "--epochs" : "the spec"} asks for ${train.epochs}; ask for more with --epochs`,
        });
      }
    }
    const dataset = await timings.timeAsync("data", () =>
      loadDataset(train.data, {
        expect: {
          inputShape: input.op === "input" ? input.shape : [],
          numClasses: outputs.at(-1)! === 1 ? 2 : outputs.at(-1)!,
        },
      }),
    );
    const backend = await timings.timeAsync("backend", () => selectBackend(opts.backend));
    requireTrainingMemory(modelIR, train, backend.name); // E636/E637, before the model allocates anything
    if (resumeFrom) io.err(`resuming ${outDir} after epoch ${resumeFrom.epochsDone} of ${train.epochs}\n`);
    // --force replaces the old run only now that this one can start: a bad data source leaves it as it was.
    if (opts.force && !opts.resume) removeRunFiles(outDir);

    const hasBatchnorm = modelIR.layers.some((l) => l.op === "batchnorm");
    io.err(
      `training '${modelIR.name}' from ${file} on ${dataset.source}: ${dataset.train.count.toLocaleString("en-US")} train, ` +
        `${dataset.validation.count.toLocaleString("en-US")} ${dataset.validationName} samples\n` +
        // How the data was read where nnc chose (a CSV's label column and scale), so a wrong guess shows now.
        (dataset.choices ?? []).map((choice) => `data ${choice}\n`).join("") +
        `backend: ${backend.detail}\n` +
        `${describeOptimizer(train.optimizer)}, batch ${train.batch}, ${plural(train.epochs, "epoch")}, seed ${train.seed}` +
        // The statistics rule matters only where there is batch normalization to apply it to.
        (hasBatchnorm ? `, batch-norm statistics: ${train.bnstats.mode}` : "") +
        "\n" +
        (augmentsAnything(train.augment)
          ? `augmentation of training batches: ${describeAugment(train.augment)}\n`
          : "") +
        (train.loss.labelSmoothing ? `loss label_smoothing=${train.loss.labelSmoothing}\n` : "") +
        (train.classWeight ? `${classWeightLine(train.classWeight, dataset)}\n` : "") +
        (train.schedule ? `schedule ${describeSchedule(train.schedule)}\n` : "") +
        (train.earlyStop ? `${describeEarlyStop(train.earlyStop)}\n` : "") +
        `output: ${outDir}\n`,
    );

    model = timings.time("model", () =>
      buildModel(program, { model: modelIR.name, seed: train.seed, backend: backend.name }),
    );
    let initialized: InitFrom | undefined;
    if (opts.initFrom !== undefined) {
      initialized = await initFrom(model, modelIR, opts.initFrom, backend.name);
      io.err(
        `initial weights: ${initialized.weights} weights from ${opts.initFrom} (matched by layer name)\n`,
      );
      if (initialized.inputScale !== dataset.train.scale) {
        io.err(
          `warning: ${opts.initFrom} was trained on values divided by ${initialized.inputScale}, this data is ` +
            `divided by ${dataset.train.scale} (scale= on the data line sets it)\n`,
        );
      }
    }
    const startedAt = new Date();
    const manifest = (history: History) =>
      makeManifest({
        specFile: file,
        specHash: compiled.source.sha256,
        model: modelIR.name,
        train,
        backend: backend.name,
        ...(history.threads !== undefined ? { threads: history.threads } : {}),
        data: dataset.description,
        startedAt,
        argv: process.argv.slice(2),
        ...(initialized ? { initFrom: { dir: initialized.dir, weights: initialized.weights } } : {}),
      });
    const run: RunContext = { file, outDir, fingerprint, train, inputScale: dataset.train.scale };
    progress = new TrainingProgress(io, train.epochs);
    const samplesPerEpoch = dataset.train.count;
    let history: History;
    const fitBegan = performance.now();
    try {
      history = await model.fit(dataset, {
        evalTrain: opts.evalTrain ?? false,
        threads: opts.threads ?? "auto",
        ...(opts.parallel ? { parallel: opts.parallel } : {}),
        timings: timings.fit,
        onStart: ({ threads, splitKernels }) => {
          timings.since("set-up", fitBegan);
          if (threads > 1)
            io.err(`threads: ${threads} (data-parallel: each thread trains its share of every batch)\n`);
          else if (splitKernels) io.err("threads: 1 training thread, its large kernels split over 2 cores\n");
        },
        ...(resumeFrom ? { resumeFrom } : {}),
        onBatchEnd: (e) => {
          timings.step();
          progress!.batch(e, samplesPerEpoch);
        },
        onEpochEnd: (record, state) => {
          progress!.epoch(record);
          timings.time("saving", () => writeCheckpointOf(run, record.epoch, state(), saved));
          saved = record.epoch;
        },
      });
    } catch (e) {
      if (!(e instanceof NncError && e.diagnostic.code === "E601")) throw e;
      progress.stop();
      const stop = stoppedByDivergence(run, model, e, saved, manifest);
      savedModel = stop.savedModel;
      throw stop.error;
    }
    try {
      timings.time("saving", () =>
        saveModel(model!, outDir, { history, manifest: manifest(history), inputScale: run.inputScale }),
      );
    } catch (e) {
      if (!(e instanceof WriteError)) throw e;
      fail(
        "E643",
        { dir: outDir, reason: e.reason, kept: keptCheckpoint(run, saved) },
        { help: `free some space, then write the model from it: nnc train ${file} --resume --out ${outDir}` },
      );
    }
    savedModel = true;
    for (const note of history.notes ?? []) io.err(`note: ${note}\n`);
    // The model saved: the last epoch's, or early stopping's best (restore=true).
    const kept =
      history.earlyStop?.restored && history.earlyStop.bestEpoch !== history.epochs.at(-1)?.epoch
        ? history.earlyStop.bestEpoch
        : undefined;
    const last = history.epochs.find((e) => e.epoch === kept) ?? history.epochs.at(-1);
    if (last) {
      io.err(
        `\n${dataset.validationName} accuracy ${(last.valAccuracy * 100).toFixed(2)}%, loss ${last.valLoss.toFixed(4)} ` +
          `(${dataset.validation.count} samples${hasBatchnorm ? ", population batch-norm statistics" : ""}` +
          `${kept !== undefined ? `; epoch ${kept}'s weights, kept by early stopping` : ""})\n`,
      );
    }
    io.err(
      `saved to ${outDir}/ (model.json + weights.bin for tf.loadLayersModel, ir.json, history.json, manifest.json)\n` +
        (existsSync(join(outDir, INFERENCE_DIR))
          ? `inference export with batch norm folded into the layers before it: ${join(outDir, INFERENCE_DIR)}/\n`
          : ""),
    );
    if (opts.timings) io.err(timings.report());
    return EXIT.ok;
  } finally {
    if (!stopping) {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
    progress?.stop();
    model?.dispose();
    // A run that wrote nothing gives its folder back (removed if it made it); any other keeps what it wrote.
    if (saved === 0 && !savedModel) folder.abandon();
    else folder.release();
  }
}

/** What the helpers below need to know of the run. */
interface RunContext {
  file: string;
  outDir: string;
  fingerprint: Fingerprint;
  train: Train;
  /** The data's divisor of raw values (255 for image bytes): the saved model.json takes raw values. */
  inputScale: number;
}

/** What is left of the last good checkpoint, read back rather than assumed. */
function keptCheckpoint(run: RunContext, saved: number): string {
  if (saved === 0) return `there is no earlier checkpoint in ${run.outDir} (no epoch had been saved)`;
  try {
    const state = readCheckpoint(run.outDir, run.fingerprint);
    return `the checkpoint of epoch ${state.epochsDone} in ${run.outDir} is intact (read back just now)`;
  } catch (e) {
    return `and the checkpoint of epoch ${saved} cannot be read back either: ${(e as Error).message}`;
  }
}

/**
 * Writes the checkpoint of `epoch`; a write that fails (a full disk) is E642, saying what the folder still
 * holds: the atomic write leaves the previous checkpoint as it was.
 */
function writeCheckpointOf(run: RunContext, epoch: number, state: TrainState, saved: number): void {
  try {
    writeCheckpoint(run.outDir, state, { fingerprint: run.fingerprint });
  } catch (e) {
    if (!(e instanceof WriteError)) throw e;
    fail(
      "E642",
      { dir: run.outDir, epoch, reason: e.reason, kept: keptCheckpoint(run, saved) },
      {
        help:
          saved > 0
            ? `free some space, then continue from epoch ${saved}: nnc train ${run.file} --resume --out ${run.outDir}`
            : "free some space and train again",
      },
    );
  }
}

/**
 * A loss that stopped being finite (E601), made to say what exists: with a checkpoint, the model of its epoch
 * (the last good weights) is saved as the run's model, so `nnc eval` works on it and `--resume` with a lower
 * `--lr` goes on from it; without one, that nothing was saved.
 */
function stoppedByDivergence(
  run: RunContext,
  model: CompiledModel,
  error: NncError,
  saved: number,
  manifest: (history: History) => ReturnType<typeof makeManifest>,
): { error: NncError; savedModel: boolean } {
  const { file, outDir } = run;
  const lower = +(run.train.optimizer.lr / 10).toPrecision(3);
  const withHelp = (help: string) => new NncError({ ...error.diagnostic, help });
  if (saved === 0) {
    return {
      error: withHelp(
        "nothing was saved: no epoch finished before the loss diverged (a checkpoint is written after each " +
          `finished epoch); train again with a lower learning rate, e.g. --lr ${lower}`,
      ),
      savedModel: false,
    };
  }
  const resume = `nnc train ${file} --resume --out ${outDir} --lr ${lower}`;
  try {
    const last = readCheckpoint(outDir, run.fingerprint);
    model.setWeights(last.weights);
    const stop = error.diagnostic.message.split(":")[0]!;
    const history: History = {
      ...last.history,
      notes: [
        ...(last.history.notes ?? []),
        `training stopped early: ${stop}; the model saved is epoch ${last.epochsDone}'s, the last finished one`,
      ],
    };
    saveModel(model, outDir, { history, manifest: manifest(history), inputScale: run.inputScale });
    return {
      error: withHelp(
        `the model of epoch ${last.epochsDone}, the last finished one, is saved in ${outDir} (nnc eval ` +
          `${outDir} scores it); continue from it with a lower learning rate: ${resume}`,
      ),
      savedModel: true,
    };
  } catch (e) {
    return {
      error: withHelp(
        `the checkpoint of epoch ${saved} in ${outDir} holds the last good weights, but the model could not be ` +
          `saved from it (${(e as Error).message}); continue from it with a lower learning rate: ${resume}`,
      ),
      savedModel: false,
    };
  }
}

/** The header's class-weight line: the weights training will use (balanced ones computed from the labels). */
function classWeightLine(spec: NonNullable<Train["classWeight"]>, dataset: Dataset): string {
  const { train } = dataset;
  const table = classWeightTable(spec, train.y, train.count, dataset.numClasses, dataset.source);
  return table ? describeClassWeights(spec, table) : "";
}
