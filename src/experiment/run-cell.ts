// Experiments, step 2: trains one cell of the grid on a loaded data set with the active backend and gives its
// CellResult (history, final and best metrics, epochs to target, speed). A cell that diverges (E601) is a result,
// not a failure of the experiment: high learning rates diverging is what some studies measure.
import type { Dataset } from "../data/types.ts";
import { NncError } from "../diagnostics/index.ts";
import type { Experiment, Program, WatchSeries } from "../ir/schema.ts";
import { buildModel } from "../lower/index.ts";
import type { BackendName, BatchEvent, EarlyStopRecord, EpochRecord } from "../runtime/types.ts";
import type { Cell } from "./grid.ts";
import type { CellResult, EpochResult } from "./results-schema.ts";

export interface CellEvents {
  onBatchEnd?: (e: BatchEvent) => void;
  onEpochEnd?: (record: EpochRecord) => void;
}

/** What an experiment has every cell measure beside its history: epochs to target, the training set in inference mode. */
export interface CellMeasures {
  target?: number;
  evalTrain?: boolean;
}

export const measuresOf = (experiment: Experiment): CellMeasures => ({
  ...(experiment.target !== undefined ? { target: experiment.target } : {}),
  ...(experiment.evalTrain ? { evalTrain: true } : {}),
});

/** What trains a cell: the real runtime here, a fake in tests of the scheduling around it. */
export type CellRunner = (cell: Cell, events: CellEvents) => Promise<CellResult>;

/** JSON has no NaN or Infinity: a diverged run's metrics are written as null. */
const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

export function toEpochResult(r: EpochRecord): EpochResult {
  const out: EpochResult = {
    epoch: r.epoch,
    loss: finite(r.loss),
    accuracy: finite(r.accuracy),
    valLoss: finite(r.valLoss),
    valAccuracy: finite(r.valAccuracy),
    seconds: r.seconds,
    samplesPerSecond: r.samplesPerSecond,
  };
  if (r.trainEvalLoss !== undefined) out.trainEvalLoss = finite(r.trainEvalLoss);
  if (r.trainEvalAccuracy !== undefined) out.trainEvalAccuracy = finite(r.trainEvalAccuracy);
  if (r.lr !== undefined) out.lr = r.lr;
  return out;
}

/** Everything a CellResult says that follows from its history (shared with fake runners in tests). */
export function summarizeCell(
  cell: Cell,
  history: EpochResult[],
  extras: {
    backend: string;
    target?: number;
    error?: string;
    notes?: string[];
    earlyStop?: EarlyStopRecord;
    watch?: WatchSeries[];
    seconds: number;
    samplesPerSecond: number;
  },
): CellResult {
  // The model the cell ends with: the last epoch's, or early stopping's best (restore=true).
  const kept = extras.earlyStop?.restored ? extras.earlyStop.bestEpoch : undefined;
  const last = history.find((e) => e.epoch === kept) ?? history.at(-1);
  const accuracies = history.map((e) => e.valAccuracy).filter((a): a is number => a !== null);
  const result: CellResult = {
    id: cell.id,
    index: cell.index,
    model: cell.model,
    group: cell.group,
    varied: cell.varied as Record<string, number | string>,
    repeat: cell.repeat,
    seed: cell.seed,
    lr: cell.train.optimizer.lr,
    lrNote: cell.lrNote,
    train: cell.train,
    status: extras.error === undefined ? "ok" : "diverged",
    history,
    final: {
      loss: last?.loss ?? null,
      accuracy: last?.accuracy ?? null,
      valLoss: last?.valLoss ?? null,
      valAccuracy: last?.valAccuracy ?? null,
    },
    bestValAccuracy: accuracies.length > 0 ? Math.max(...accuracies) : null,
    seconds: extras.seconds,
    // Training steps only, over the whole cell (validation is not in it), as the per-epoch figures.
    samplesPerSecond: extras.samplesPerSecond,
    backend: extras.backend,
    finishedAt: new Date().toISOString(),
  };
  if (extras.error !== undefined) result.error = extras.error;
  if (extras.notes?.length) result.notes = extras.notes;
  if (extras.earlyStop) result.earlyStop = extras.earlyStop;
  if (extras.watch) result.watch = extras.watch;
  if (extras.target !== undefined) {
    const hit = history.find((e) => e.valAccuracy !== null && e.valAccuracy >= extras.target!);
    result.epochsToTarget = hit ? hit.epoch : null;
  }
  return result;
}

/** Mean training throughput over a history (samples / training seconds, weighted by epoch). */
function meanSamplesPerSecond(history: EpochRecord[], samplesPerEpoch: number): number {
  const seconds = history.reduce(
    (s, e) => s + (e.samplesPerSecond > 0 ? samplesPerEpoch / e.samplesPerSecond : 0),
    0,
  );
  return seconds > 0 ? (samplesPerEpoch * history.length) / seconds : 0;
}

/** Trains one cell with the backend the caller made active (selectBackend), on a data set loaded once. */
export async function trainCell(
  program: Program,
  cell: Cell,
  dataset: Dataset,
  options: { backend: BackendName; backendDetail: string; measures?: CellMeasures; events?: CellEvents },
): Promise<CellResult> {
  // The cell's settings become the program's: buildModel reads train.init, fit reads the rest.
  const cellProgram: Program = { ...program, train: cell.train };
  const model = buildModel(cellProgram, { model: cell.model, seed: cell.seed, backend: options.backend });
  const records: EpochRecord[] = [];
  const began = performance.now();
  let error: string | undefined;
  let notes: string[] | undefined;
  let earlyStop: EarlyStopRecord | undefined;
  // Kept as recorded, so a cell that diverges still reports what its watches saw up to then.
  let watch: readonly WatchSeries[] | undefined;
  try {
    const history = await model.fit(dataset, {
      // Cells use the cores side by side (--jobs); one thread each also keeps a cell's results the same
      // whatever --jobs is (data-parallel threads change them by float rounding).
      threads: 1,
      ...(options.measures?.evalTrain ? { evalTrain: true } : {}),
      ...(options.events?.onBatchEnd ? { onBatchEnd: options.events.onBatchEnd } : {}),
      onWatch: (series) => {
        watch = series;
      },
      onEpochEnd: (record) => {
        records.push(record);
        options.events?.onEpochEnd?.(record);
      },
    });
    notes = history.notes;
    earlyStop = history.earlyStop;
  } catch (e) {
    if (!(e instanceof NncError && e.diagnostic.code === "E601")) throw e;
    error = e.diagnostic.message;
  } finally {
    model.dispose();
  }
  return summarizeCell(cell, records.map(toEpochResult), {
    backend: options.backendDetail,
    ...(options.measures?.target !== undefined ? { target: options.measures.target } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(notes ? { notes } : {}),
    ...(earlyStop ? { earlyStop } : {}),
    ...(watch ? { watch: structuredClone([...watch]) } : {}),
    seconds: (performance.now() - began) / 1000,
    samplesPerSecond: meanSamplesPerSecond(records, dataset.train.count),
  });
}
