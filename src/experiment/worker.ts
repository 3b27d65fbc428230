// Experiments: the worker_threads entry of pool.ts. Selects its own tfjs backend and loads the data set once,
// says "ready", then trains each cell it is sent and posts its progress and result back.
import { parentPort, workerData } from "node:worker_threads";
import { loadDataset } from "../data/index.ts";
import { NncError } from "../diagnostics/index.ts";
import { selectBackend } from "../runtime/backend.ts";
import type { FromWorker, ToWorker, WorkerSetup } from "./pool.ts";
import { trainCell } from "./run-cell.ts";

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const setup = workerData as WorkerSetup;

/** Progress crosses threads as messages: a batch event at most every 100 ms is plenty for a bar. */
const BATCH_EVENT_INTERVAL_MS = 100;

function failed(e: unknown): FromWorker {
  if (e instanceof NncError) return { type: "failed", diagnostic: e.diagnostic, message: e.message };
  const err = e as Error;
  return { type: "failed", message: err?.message ?? String(e), ...(err?.stack ? { stack: err.stack } : {}) };
}

try {
  const backend = await selectBackend(setup.backend);
  // The main thread loaded the same data and checked it against every compared model.
  const dataset = await loadDataset(setup.data);
  port.on("message", async (m: ToWorker) => {
    if (m.type !== "run") return;
    let lastBatch = 0;
    try {
      const result = await trainCell(setup.program, m.cell, dataset, {
        backend: backend.name,
        backendDetail: backend.detail,
        measures: setup.measures,
        events: {
          onBatchEnd: (event) => {
            const now = performance.now();
            if (now - lastBatch < BATCH_EVENT_INTERVAL_MS && event.step !== event.steps) return;
            lastBatch = now;
            post({ type: "batch", event });
          },
          onEpochEnd: (record) => post({ type: "epoch", record }),
        },
      });
      post({ type: "result", result });
    } catch (e) {
      post(failed(e));
    }
  });
  post({ type: "ready", backend: backend.name, detail: backend.detail });
} catch (e) {
  post(failed(e));
}
