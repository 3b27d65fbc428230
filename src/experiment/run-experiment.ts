// Experiments as one call: a checked program + an experiment name -> every cell of its grid trained (in
// parallel workers or here), results.json rewritten after each cell, then the plots and report.html.
//   pick experiment -> expand grid -> (resume: keep finished cells) -> load data, backend -> run cells -> report
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { CliIO } from "../cli/io.ts";
import { checkDataSource, loadDataset, resolveDataPaths, type Dataset } from "../data/index.ts";
import { checkDataFit } from "../check/data-fit.ts";
import { requireValidation } from "../train/fit.ts";
import { metadataOfDataset } from "../data/metadata.ts";
import { fail, NncError, SourceText } from "../diagnostics/index.ts";
import type { Experiment, Program } from "../ir/schema.ts";
import { requireTrainingMemory } from "../ir/training-memory.ts";
import { writeReport, type WrittenReport } from "../report/index.ts";
import { selectBackend } from "../runtime/backend.ts";
import type { BackendChoice } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import type { QueueUrl } from "./queue/url.ts";
import { checkComparedModels } from "./check-models.ts";
import { describeLrRule, expandGrid, type Cell, type GridOptions } from "./grid.ts";
import { augmentsAnything, describeAugment } from "../ir/augment.ts";
import { varyValueText } from "./vary-value.ts";
import { inProcessPool, runCells, workerPool, type CellPool, type WorkerSetup } from "./pool.ts";
import { measuresOf } from "./run-cell.ts";
import { ExperimentProgress } from "./progress.ts";
import { RESULTS_VERSION, type Results } from "./results-schema.ts";
import { experimentIrSha256, hasResults, readResults, resumableCells, ResultsWriter } from "./results.ts";

export interface ExperimentRunOptions extends GridOptions {
  /** The spec as compiled, and where it came from (its hash identifies the run for --resume). */
  program: Program;
  specFile: string;
  specText: string;
  specSha256: string;
  /** Which experiment of the file; default the only one. */
  name?: string;
  outDir: string;
  /** Cells trained at once, each in its own worker; 1 trains here, one after another. */
  jobs: number;
  backend: BackendChoice;
  resume?: boolean;
  force?: boolean;
  /** Train the cells on this Redis queue's workers (`nnc worker`) instead of here (--queue). */
  queue?: QueueUrl;
  /** Replaces where cells train (tests of scheduling and resume use a fake trainer). */
  pool?: (setup: WorkerSetup, dataset: Dataset, backend: { name: string; detail: string }) => CellPool;
}

export interface ExperimentRun {
  results: Results;
  /** Cells trained by this call (a resumed run skips the finished ones). */
  trained: Cell[];
  report: WrittenReport;
}

export function pickExperiment(program: Program, name: string | undefined, file: string): Experiment {
  const names = program.experiments.map((e) => e.name);
  if (names.length === 0) fail("E630", { file }, { file });
  if (name !== undefined) {
    const found = program.experiments.find((e) => e.name === name);
    if (!found) fail("E631", { name, known: names.join(", ") }, { file });
    return found;
  }
  if (names.length > 1) fail("E632", { file, known: names.join(", ") }, { file });
  return program.experiments[0]!;
}

export async function runExperiment(io: CliIO, options: ExperimentRunOptions): Promise<ExperimentRun> {
  const { program, outDir } = options;
  const experiment = pickExperiment(program, options.name, options.specFile);
  const gridOptions: GridOptions = {
    ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  };
  const grid = expandGrid(program, experiment, gridOptions).map((c) => ({
    ...c,
    // Paths in a spec are relative to the spec; workers may run elsewhere, so they get absolute ones. Cell ids
    // were made from the settings as written, so moving the run's folder does not change them.
    train: { ...c.train, data: resolveDataPaths(c.train.data, dirname(options.specFile)) },
  }));

  let previous: Results | undefined;
  if (options.resume) {
    if (!hasResults(outDir)) fail("E602", { dir: outDir, detail: "it holds no results.json" });
    previous = readResults(outDir);
    resumableCells(outDir, previous, {
      specSha256: options.specSha256,
      irSha256: experimentIrSha256(program, experiment),
      experiment: experiment.name,
      grid,
    });
  } else if (existsSync(outDir) && hasResults(outDir) && !options.force) {
    fail("E606", { dir: outDir });
  }
  const finished = new Set(previous?.cells.map((c) => c.id) ?? []);
  const pending = grid.filter((c) => !finished.has(c.id));

  // Every cell trains on the same data (no vary key changes it): load it once here to check it against every
  // compared model and say what it is, before any worker starts.
  const data = grid[0]!.train.data;
  checkDataSource(data);
  const dataset = await loadDataset(data);
  checkComparedModels(program, experiment, dataset);
  // Early stopping or a plateau schedule on the test set (E644), before any cell trains, not in the first.
  for (const cell of grid) requireValidation(cell.train, dataset);
  // What a cell would be refused for (batch normalization at a varied batch of 1: E322), before any cell trains.
  const refused = checkDataFit(program, () => metadataOfDataset(dataset), {
    experiment: experiment.name,
  }).find((d) => d.severity === "error");
  if (refused) {
    const [located] = new SourceText(options.specFile, options.specText).locate([
      { ...refused, file: options.specFile },
    ]);
    throw new NncError(located!);
  }
  // On a queue the workers select their backends and check each cell against their memory (the run records the
  // backends its cells trained on); here, E636/E637 for any cell too large for this backend or for the memory
  // free now (jobs cells at once), before the first cell trains.
  const queue = options.queue;
  const backend = queue ? undefined : await selectBackend(options.backend);
  const jobs = queue ? 1 : Math.max(1, Math.min(options.jobs, pending.length));
  for (const cell of backend ? pending : []) {
    const model = program.models.find((m) => m.name === cell.model)!;
    const what = `cell ${cell.index + 1} of experiment '${experiment.name}' (${cell.group})`;
    requireTrainingMemory(model, cell.train, backend!.name, { jobs, what });
  }
  const backendDetail = backend?.detail ?? `on the workers of ${queue!.display} (backend ${options.backend})`;

  const now = new Date().toISOString();
  const results: Results = {
    resultsVersion: RESULTS_VERSION,
    nncVersion: VERSION,
    spec: {
      file: options.specFile,
      sha256: options.specSha256,
      irSha256: experimentIrSha256(program, experiment),
      text: options.specText,
    },
    experiment: JSON.parse(JSON.stringify(experiment)) as Experiment,
    lrRule: describeLrRule(experiment, grid[0]?.train),
    options: gridOptions,
    data: dataset.description,
    validationName: dataset.validationName,
    backend: backendDetail,
    jobs,
    ...(queue ? { queue: queue.display } : {}),
    totalCells: grid.length,
    startedAt: previous?.startedAt ?? now,
    updatedAt: now,
    cells: previous?.cells ?? [],
  };
  const writer = new ResultsWriter(outDir, results);
  writer.write();

  io.err(
    `experiment '${experiment.name}' of ${options.specFile}: ${grid.length} cells ` +
      `(${experiment.compare.length} model${experiment.compare.length === 1 ? "" : "s"} x ` +
      `${grid.length / experiment.compare.length / experiment.repeat} setting${grid.length / experiment.compare.length / experiment.repeat === 1 ? "" : "s"} x ${experiment.repeat} repeat${experiment.repeat === 1 ? "" : "s"})` +
      (finished.size > 0 ? `, ${finished.size} already finished` : "") +
      `\ndata: ${dataset.description}\n` +
      (dataset.choices ?? []).map((choice) => `data ${choice}\n`).join("") +
      (queue
        ? `cells train ${backendDetail}\n`
        : `backend: ${backendDetail}, ${jobs} job${jobs === 1 ? "" : "s"}\n`) +
      `${results.lrRule}\n${augmentLine(experiment, grid)}output: ${outDir}\n`,
  );

  if (queue) {
    const progress = new ExperimentProgress(io, grid.length, finished.size);
    const { runOnQueue } = await import("./queue/coordinator.ts");
    try {
      await runOnQueue({
        url: queue,
        cells: pending,
        job: {
          nncVersion: VERSION,
          spec: { file: options.specFile, text: options.specText },
          experiment: experiment.name,
          options: gridOptions,
          data,
          backend: options.backend,
        },
        irSha256: results.spec.irSha256!,
        force: options.force ?? false,
        total: grid.length,
        progress,
        samplesPerEpoch: dataset.train.count,
        onResult: (result) => {
          // The run's backends and workers are those its cells trained on.
          const cells = [...results.cells.filter((c) => c.id !== result.id), result];
          results.backend = [...new Set(cells.map((c) => c.backend))].join("; ");
          results.jobs = Math.max(1, new Set(cells.map((c) => c.worker ?? "")).size);
          writer.add(result);
        },
      });
    } finally {
      progress.stop();
    }
    const report = await writeReport(outDir, results);
    return { results, trained: pending, report };
  }

  if (!backend) throw new Error("unreachable: a local run selects a backend");
  const measures = measuresOf(experiment);
  const setup: WorkerSetup = { program, data, backend: backend.name, measures };
  const pool = options.pool
    ? options.pool(setup, dataset, backend)
    : jobs === 1
      ? inProcessPool(program, dataset, backend, measures)
      : workerPool(jobs, setup);
  const progress = new ExperimentProgress(io, grid.length, finished.size);
  try {
    await runCells(pending, pool, {
      onStart: (cell, slot) => progress.start(cell, slot, dataset.train.count),
      events: (cell, slot) => ({
        onBatchEnd: (e) => progress.batch(cell, slot, e),
        onEpochEnd: (r) => progress.epoch(cell, r),
      }),
      onResult: (result, cell, slot) => {
        writer.add(result);
        progress.cellDone(cell, slot, result);
      },
    });
  } finally {
    progress.stop();
    await pool.close();
  }
  const report = await writeReport(outDir, results);
  return { results, trained: pending, report };
}

/** The run header's augmentation line: the cells' common augmentation, or the varied values; "" for none. */
function augmentLine(experiment: Experiment, grid: Cell[]): string {
  const varied = experiment.vary.find((v) => v.key === "augment");
  if (varied)
    return `augmentation of training batches: varied (${varied.values.map(varyValueText).join(", ")})\n`;
  const augment = grid[0]?.train.augment;
  return augmentsAnything(augment) ? `augmentation of training batches: ${describeAugment(augment)}\n` : "";
}
