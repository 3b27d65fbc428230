// Experiments on a queue: BullMQ's sandboxed processor (run by `nnc worker` in worker threads, useWorkerThreads,
// so training never blocks the event loop that renews the job's lock). A job -> the cell's CellResult, trained
// exactly as a local run trains it (trainCell, one thread, the same seed). The payload comes from Redis, so it is
// validated (schema) and the cell is made again from the spec's text: a job can only ask for a cell of a spec.
// Each thread selects its backend and loads a data set once, and keeps it for the next cells.
import { workerData } from "node:worker_threads";
import { checkDataSource, loadDataset, pathSource, type Dataset } from "../../data/index.ts";
import { compile, compileIR } from "../../compile.ts";
import { diagnostic, NncError, renderDiagnostic, type Diagnostic } from "../../diagnostics/index.ts";
import { requireTrainingMemory } from "../../ir/training-memory.ts";
import { selectBackend } from "../../runtime/backend.ts";
import { canonicalJson } from "../../util/canonical-json.ts";
import { VERSION } from "../../version.ts";
import { checkModelAgainstData } from "../check-models.ts";
import { expandGrid, type Cell } from "../grid.ts";
import { measuresOf, trainCell } from "../run-cell.ts";
import { validateCellJob, workerName, type CellJob, type CellProgress, type CellReturn } from "./job.ts";

/** What BullMQ hands a sandboxed processor (a SandboxedJob: plain data plus proxied methods). */
export interface ProcessorJob {
  id?: string;
  data: unknown;
  updateProgress(progress: CellProgress): Promise<void>;
}

/** Batch progress crosses to the coordinator through Redis: twice a second is plenty for a bar. */
const BATCH_PROGRESS_INTERVAL_MS = 500;
/** Data sets kept loaded per thread (a worker usually serves one study). */
const KEPT_DATASETS = 2;

const datasets = new Map<string, Promise<Dataset>>();

function dataset(data: CellJob["data"]): Promise<Dataset> {
  const key = canonicalJson(data);
  let loaded = datasets.get(key);
  if (!loaded) {
    loaded = (async () => {
      checkDataSource(data);
      return loadDataset(data);
    })();
    datasets.set(key, loaded);
    loaded.catch(() => datasets.delete(key)); // a missing file may appear before the next attempt
    while (datasets.size > KEPT_DATASETS) datasets.delete(datasets.keys().next().value!);
  }
  return loaded;
}

/**
 * The version of the nnc that runs this worker: `nnc worker` passes it (workerData), since this module may run as a
 * bundle outside the package (where VERSION cannot find package.json).
 */
const NNC_VERSION = (workerData as { nncVersion?: string } | null)?.nncVersion ?? VERSION;

/** A failure BullMQ retries (attempts): another worker may have the data, the memory, the right nnc. */
const retryable = (d: Diagnostic): Error => new Error(renderDiagnostic(d));

/** A failure no retry can mend (BullMQ fails the job at once on an error named UnrecoverableError). */
function unrecoverable(d: Diagnostic): Error {
  const e = new Error(renderDiagnostic(d));
  e.name = "UnrecoverableError";
  return e;
}

const refuse = (job: string, reason: string) => unrecoverable(diagnostic("E663", { job, reason }));

/** The cell a payload asks for, made again from its spec: refuses anything that is not exactly such a cell. */
function cellOfJob(jobId: string, payload: CellJob) {
  const { spec } = payload;
  const compiled = spec.file.toLowerCase().endsWith(".json")
    ? compileIR(spec.text, { filename: spec.file })
    : compile(spec.text, { filename: spec.file });
  const error = compiled.diagnostics.find((d) => d.severity === "error");
  if (!compiled.program || error) {
    throw refuse(
      jobId,
      `its spec does not compile: ${error ? `error[${error.code}]: ${error.message}` : "no program"}`,
    );
  }
  const program = compiled.program;
  const experiment = program.experiments.find((e) => e.name === payload.experiment);
  if (!experiment) throw refuse(jobId, `its spec has no experiment '${payload.experiment}'`);
  let grid: Cell[];
  try {
    grid = expandGrid(program, experiment, payload.options);
  } catch (e) {
    if (e instanceof NncError) throw refuse(jobId, `its experiment has no grid: ${e.diagnostic.message}`);
    throw e;
  }
  const made = grid.find((c) => c.id === payload.cell.id);
  if (!made) throw refuse(jobId, `cell ${payload.cell.id} is not a cell of experiment '${experiment.name}'`);
  // The data as the coordinator resolved it: the spec's, with a relative path made absolute there.
  const written = made.train.data;
  const { source: sourceWritten, ...restWritten } = written;
  const { source: sourceSent, ...restSent } = payload.data;
  const kindWritten = pathSource(sourceWritten)?.kind ?? sourceWritten;
  const kindSent = pathSource(sourceSent)?.kind ?? sourceSent;
  if (kindWritten !== kindSent || canonicalJson(restWritten) !== canonicalJson(restSent)) {
    throw refuse(jobId, `its data '${sourceSent}' is not the spec's data '${sourceWritten}'`);
  }
  const cell: Cell = { ...made, train: { ...made.train, data: payload.data } };
  const sent = payload.cell;
  const expected = {
    id: cell.id,
    index: cell.index,
    model: cell.model,
    varied: cell.varied,
    group: cell.group,
    repeat: cell.repeat,
    seed: cell.seed,
    train: cell.train,
    lrNote: cell.lrNote,
  };
  if (canonicalJson(sent) !== canonicalJson(expected)) {
    throw refuse(jobId, `its cell's settings are not those the spec gives cell ${cell.index + 1}`);
  }
  return { program, experiment, cell };
}

export async function processCell(job: ProcessorJob): Promise<CellReturn> {
  const jobId = String(job.id ?? "(no id)");
  const problems = validateCellJob(job.data);
  if (problems.length > 0) throw refuse(jobId, problems.slice(0, 3).join("; "));
  const payload = job.data as CellJob;
  if (payload.nncVersion !== NNC_VERSION) {
    throw retryable(diagnostic("E664", { job: jobId, theirs: payload.nncVersion, ours: NNC_VERSION }));
  }
  const { program, experiment, cell } = cellOfJob(jobId, payload);
  try {
    const backend = await selectBackend(payload.backend);
    const data = await dataset(payload.data);
    checkModelAgainstData(program, experiment, cell.model, data);
    const model = program.models.find((m) => m.name === cell.model)!;
    requireTrainingMemory(model, cell.train, backend.name, {
      jobs: 1,
      what: `cell ${cell.index + 1} of experiment '${experiment.name}' (${cell.group})`,
    });
    let lastBatch = 0;
    const report = (progress: CellProgress) => void job.updateProgress(progress).catch(() => {});
    const result = await trainCell(program, cell, data, {
      backend: backend.name,
      backendDetail: backend.detail,
      measures: measuresOf(experiment),
      events: {
        onBatchEnd: (e) => {
          const now = performance.now();
          if (now - lastBatch < BATCH_PROGRESS_INTERVAL_MS && e.step !== e.steps) return;
          lastBatch = now;
          const finite = (x: number) => (Number.isFinite(x) ? x : null);
          report({ type: "batch", ...e, loss: finite(e.loss), accuracy: finite(e.accuracy) });
        },
        onEpochEnd: (record) => {
          const finite = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
          const { trainEvalLoss, trainEvalAccuracy, ...rest } = record;
          report({
            type: "epoch",
            record: {
              ...rest,
              loss: finite(record.loss),
              accuracy: finite(record.accuracy),
              valLoss: finite(record.valLoss),
              valAccuracy: finite(record.valAccuracy),
              ...(trainEvalLoss !== undefined ? { trainEvalLoss: finite(trainEvalLoss) } : {}),
              ...(trainEvalAccuracy !== undefined ? { trainEvalAccuracy: finite(trainEvalAccuracy) } : {}),
            },
          });
        },
      },
    });
    return { result, worker: workerName() };
  } catch (e) {
    if (e instanceof NncError) throw retryable(e.diagnostic);
    throw e;
  }
}

export default processCell;
