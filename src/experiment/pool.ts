// Experiments, step 3: where cells train. In this thread one after another (--jobs 1), or in worker_threads,
// one cell at a time per worker, each worker with its own tfjs backend and its own copy of the data set (the
// wasm backend runs one core, so N workers use N cores). Both give the same results for the same seeds.
import type { Worker } from "node:worker_threads";
import type { Dataset } from "../data/types.ts";
import { NncError, type Diagnostic } from "../diagnostics/index.ts";
import type { Program } from "../ir/schema.ts";
import type { BackendChoice, BackendName, BatchEvent, EpochRecord } from "../runtime/types.ts";
import type { Cell } from "./grid.ts";
import type { CellResult } from "./results-schema.ts";
import { trainCell, type CellEvents, type CellMeasures } from "./run-cell.ts";
import { startWorker } from "../util/worker-entry.ts";

/** Trains cells; `run` may be called again once the previous call of the same slot has settled. */
export interface CellPool {
  /** How many cells may train at once. */
  readonly slots: number;
  run(slot: number, cell: Cell, events: CellEvents): Promise<CellResult>;
  close(): Promise<void>;
}

/** What a worker needs to train any cell of an experiment. */
export interface WorkerSetup {
  program: Program;
  /** Data as the cells train on it (every cell shares the data settings; --limit included). */
  data: Program["train"]["data"];
  backend: BackendChoice;
  measures: CellMeasures;
}

export type ToWorker = { type: "run"; cell: Cell };
export type FromWorker =
  | { type: "ready"; backend: BackendName; detail: string }
  | { type: "batch"; event: BatchEvent }
  | { type: "epoch"; record: EpochRecord }
  | { type: "result"; result: CellResult }
  | { type: "failed"; diagnostic?: Diagnostic; message: string; stack?: string };

/** Cells one after another in this thread, with the backend already active and the data already loaded. */
export function inProcessPool(
  program: Program,
  dataset: Dataset,
  backend: { name: BackendName; detail: string },
  measures: CellMeasures,
): CellPool {
  return {
    slots: 1,
    run: (_slot, cell, events) =>
      trainCell(program, cell, dataset, {
        backend: backend.name,
        backendDetail: backend.detail,
        measures,
        events,
      }),
    close: async () => {},
  };
}

class WorkerSlot {
  private worker: Worker;
  private ready: Promise<void>;
  private current:
    { events: CellEvents; resolve: (r: CellResult) => void; reject: (e: unknown) => void } | undefined;
  private exited = false;

  constructor(setup: WorkerSetup) {
    this.worker = startWorker(import.meta.url, "worker", { workerData: setup });
    this.ready = new Promise((resolve, reject) => {
      const onEarlyExit = (code: number) => reject(new Error(`experiment worker exited with code ${code}`));
      this.worker.once("exit", onEarlyExit);
      this.worker.once("message", (m: FromWorker) => {
        this.worker.off("exit", onEarlyExit);
        if (m.type === "ready") resolve();
        else if (m.type === "failed") reject(asError(m));
      });
      this.worker.once("error", reject);
    });
    this.ready.catch(() => {}); // observed by run(); avoid an unhandled rejection before then
    this.worker.on("message", (m: FromWorker) => this.onMessage(m));
    this.worker.on("error", (e) => this.finish(undefined, e));
    this.worker.on("exit", (code) => {
      this.exited = true;
      this.finish(undefined, new Error(`experiment worker exited with code ${code} during a cell`));
    });
  }

  private finish(result: CellResult | undefined, error?: unknown): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    if (result) c.resolve(result);
    else c.reject(error);
  }

  private onMessage(m: FromWorker): void {
    const c = this.current;
    if (!c) return;
    if (m.type === "batch") c.events.onBatchEnd?.(m.event);
    else if (m.type === "epoch") c.events.onEpochEnd?.(m.record);
    else if (m.type === "result") this.finish(m.result);
    else if (m.type === "failed") this.finish(undefined, asError(m));
  }

  async run(cell: Cell, events: CellEvents): Promise<CellResult> {
    await this.ready;
    if (this.exited) throw new Error("experiment worker is gone");
    return new Promise((resolve, reject) => {
      this.current = { events, resolve, reject };
      this.worker.postMessage({ type: "run", cell } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    this.current = undefined;
    await this.worker.terminate();
  }
}

/** A failure inside a worker, as it would have been thrown in this thread (NncError keeps its diagnostic). */
function asError(m: Extract<FromWorker, { type: "failed" }>): Error {
  if (m.diagnostic) return new NncError(m.diagnostic);
  const e = new Error(m.message);
  if (m.stack) e.stack = m.stack;
  return e;
}

/** `jobs` workers, each loading the data and selecting the backend once, then training the cells it is given. */
export function workerPool(jobs: number, setup: WorkerSetup): CellPool {
  const workers = Array.from({ length: jobs }, () => new WorkerSlot(setup));
  return {
    slots: jobs,
    run: (slot, cell, events) => workers[slot]!.run(cell, events),
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/**
 * Trains every cell, `pool.slots` at a time, handing the next cell to whichever slot is free. `onResult` sees
 * results in the order they finish (the caller writes them after each one). The first failure stops the
 * hand-out and is rethrown once the cells in flight have settled.
 */
export async function runCells(
  cells: Cell[],
  pool: CellPool,
  handlers: {
    events?: (cell: Cell, slot: number) => CellEvents;
    onStart?: (cell: Cell, slot: number) => void;
    onResult: (result: CellResult, cell: Cell, slot: number) => void;
  },
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const slot = async (s: number) => {
    while (failure === undefined && next < cells.length) {
      const cell = cells[next++]!;
      handlers.onStart?.(cell, s);
      try {
        const result = await pool.run(s, cell, handlers.events?.(cell, s) ?? {});
        handlers.onResult(result, cell, s);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(pool.slots, cells.length) }, (_, s) => slot(s)));
  if (failure) throw failure.error;
}
