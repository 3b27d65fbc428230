// Experiments on a queue, the coordinator's side (`nnc experiment FILE --queue URL`): the run's unfinished cells
// -> BullMQ jobs (job id = the cell's hash, so enqueuing twice keeps one job), then it follows them until each
// has finished or failed for good: progress from the workers' job.updateProgress (QueueEvents), each finished
// cell's result (the job's return value, validated) handed to the run as it lands. Jobs that finished while no
// coordinator was following are collected at once, which is how --resume picks up a killed coordinator's run.
// Loaded only with --queue (dynamic import): BullMQ and ioredis stay out of local runs.
import { Queue, QueueEvents, type Job } from "bullmq";
import { diagnostic, fail, renderDiagnostic } from "../../diagnostics/index.ts";
import type { BatchEvent, EpochRecord } from "../../runtime/types.ts";
import type { Cell } from "../grid.ts";
import type { ExperimentProgress } from "../progress.ts";
import type { CellResult } from "../results-schema.ts";
import {
  cellJob,
  cellJobId,
  isCellProgress,
  JOB_NAME,
  QUEUE_NAME,
  resultMatchesCell,
  validateCellReturn,
  type CellJob,
  type CellProgress,
  type CellReturn,
} from "./job.ts";
import { checkRedis, connectionOptions, reasonOf } from "./redis.ts";
import { scrubPassword, type QueueUrl } from "./url.ts";

/**
 * Tries per cell before it fails for good: a thrown error (a worker without the data, out of memory) is retried,
 * on whichever worker takes it next. A killed worker's cell is not an attempt: BullMQ's stalled-job check gives it
 * back to the queue (up to the workers' maxStalledCount times).
 */
export const CELL_ATTEMPTS = 3;
/**
 * Finished jobs stay on the queue (a second coordinator of the same cells, or one restarted with --resume, collects
 * them there) until BullMQ drops them: after a week, or beyond the newest 10,000.
 */
const KEEP_FINISHED = { age: 7 * 24 * 3600, count: 10_000 };
/** How often the coordinator looks at every unfinished job (events wake it sooner). */
const POLL_MS = 1000;
/** How long no cell may be running before the coordinator says that no worker seems to be there. */
const IDLE_HINT_MS = 30_000;

export interface QueueRunOptions {
  url: QueueUrl;
  /** The run's unfinished cells, data paths resolved. */
  cells: Cell[];
  /** What every job of the run carries besides its cell. */
  job: Omit<CellJob, "cell" | "format">;
  irSha256: string;
  /** Retrain cells the queue holds finished (--force), instead of collecting them. */
  force: boolean;
  total: number;
  progress: ExperimentProgress;
  samplesPerEpoch: number;
  onResult: (result: CellResult) => void;
}

interface Followed {
  cell: Cell;
  id: string;
  slot?: number;
  /** The attempt count last seen active, to tell a retry from the same attempt. */
  started?: number;
}

export async function runOnQueue(options: QueueRunOptions): Promise<{ workers: string[] }> {
  const { url, progress } = options;
  await checkRedis(url);
  const connection = connectionOptions(url);
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  let lost: string | undefined;
  const onError = (error: unknown) => {
    const reason = reasonOf(error, url);
    if (lost === undefined) progress.note(`queue ${url.display}: ${reason}; waiting for Redis`);
    lost = reason;
  };
  queue.on("error", onError);
  events.on("error", onError);

  const followed = new Map<string, Followed>();
  const slots = new Set<number>();
  const workers = new Set<string>();
  const failures: Array<{ cell: Cell; reason: string }> = [];
  let wake: (() => void) | undefined;
  const poke = () => wake?.();
  const tag = (c: Cell) => `[${c.index + 1}/${options.total}] ${c.group} seed ${c.seed}`;

  const startShown = (f: Followed) => {
    if (f.slot !== undefined) return f.slot;
    let slot = 0;
    while (slots.has(slot)) slot++;
    slots.add(slot);
    f.slot = slot;
    progress.start(f.cell, slot, options.samplesPerEpoch);
    return slot;
  };
  const stopShown = (f: Followed) => {
    if (f.slot !== undefined) slots.delete(f.slot);
    f.slot = undefined;
  };

  events.on("progress", ({ jobId, data }: { jobId: string; data: unknown }) => {
    const f = followed.get(jobId);
    if (!f || !isCellProgress(data)) return;
    showProgress(progress, f.cell, startShown(f), data);
  });
  for (const event of ["active", "completed", "failed", "waiting", "stalled", "removed"] as const) {
    events.on(event, poke);
  }

  try {
    await events.waitUntilReady();
    // Enqueue: a job already in the queue under the cell's id is that cell (finished, running or waiting).
    const add: Array<{ name: string; data: CellJob; opts: object }> = [];
    let already = 0;
    for (const cell of options.cells) {
      const data = cellJob(options.job, cell);
      const id = cellJobId(data, options.irSha256);
      followed.set(id, { cell, id });
      const existing = await queue.getJob(id);
      if (existing) {
        const state = await existing.getState();
        // Failed before: a new run tries it anew; --force retrains what is not running. A worker may lock it
        // meanwhile (then it is followed as it is).
        const renew = state === "failed" || (options.force && state !== "active");
        if (
          !renew ||
          !(await existing.remove().then(
            () => true,
            () => false,
          ))
        ) {
          already++;
          continue;
        }
      }
      add.push({ name: JOB_NAME, data, opts: jobOptions(id) });
    }
    if (add.length > 0) await queue.addBulk(add);
    progress.note(
      `queue ${url.display}: ${add.length} cell${add.length === 1 ? "" : "s"} enqueued` +
        (already > 0 ? `, ${already} already on the queue` : "") +
        "; workers run them: nnc worker --queue URL",
    );

    const follow = async (f: Followed) => {
      // The state first, then the job: a job read before it completed would lack its return value.
      const state = await queue.getJobState(f.id);
      const queued = ["waiting", "delayed", "prioritized", "waiting-children"].includes(state);
      if (queued && f.started === undefined) return state; // most jobs of a large grid: one call each
      const job: Job | undefined = state === "unknown" ? undefined : await queue.getJob(f.id);
      if (!job) {
        // Removed behind our back (by hand, or BullMQ's clean-up of an old job): enqueue it again.
        stopShown(f);
        progress.note(`${tag(f.cell)} is no longer on the queue; enqueued again`);
        await queue.add(JOB_NAME, cellJob(options.job, f.cell), jobOptions(f.id));
        return "waiting";
      }
      if (state === "completed") {
        followed.delete(f.id);
        collect(f, job);
      } else if (state === "failed") {
        followed.delete(f.id);
        stopShown(f);
        const reason = scrubPassword(job.failedReason || "no reason given", url);
        failures.push({ cell: f.cell, reason });
        progress.note(`${tag(f.cell)} failed on worker ${job.processedBy ?? "?"}: ${reason}`);
      } else if (state === "active") {
        if (f.started !== job.attemptsStarted) {
          f.started = job.attemptsStarted;
          startShown(f);
          progress.note(`${tag(f.cell)} started on worker ${job.processedBy ?? "?"}`);
        }
      } else if (f.started !== undefined) {
        // Back in the queue: its attempt failed (retried) or its worker stopped answering (stalled).
        f.started = undefined;
        stopShown(f);
        const why = job.failedReason
          ? `its attempt failed: ${scrubPassword(job.failedReason, url)}`
          : "its worker stopped answering";
        progress.note(`${tag(f.cell)} is back on the queue (${why})`);
      }
      return state;
    };

    const collect = (f: Followed, job: Job) => {
      const value = job.returnvalue as unknown;
      const problems = validateCellReturn(value);
      const worker = typeof (value as CellReturn)?.worker === "string" ? (value as CellReturn).worker : "?";
      const mismatch =
        problems.length === 0 ? resultMatchesCell((value as CellReturn).result, f.cell) : undefined;
      if (problems.length > 0 || mismatch) {
        const reason = mismatch ?? problems.slice(0, 3).join("; ");
        stopShown(f);
        const refused = diagnostic("E665", { cell: tag(f.cell), worker, reason });
        failures.push({ cell: f.cell, reason: renderDiagnostic(refused) });
        progress.note(`${tag(f.cell)}: the result sent by worker ${worker} is refused: ${reason}`);
        return;
      }
      const result: CellResult = { ...(value as CellReturn).result, worker };
      workers.add(worker);
      options.onResult(result);
      progress.cellDone(f.cell, startShown(f), result);
      stopShown(f);
    };

    let idleSince = Date.now();
    let hinted = false;
    while (followed.size > 0) {
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const before = followed.size;
      try {
        let running = 0;
        for (const f of [...followed.values()]) {
          if ((await follow(f)) === "active") running++;
        }
        progress.counts(running, followed.size - running);
        if (running > 0 || followed.size < before) idleSince = Date.now();
        else if (!hinted && Date.now() - idleSince > IDLE_HINT_MS) {
          hinted = true;
          progress.note(
            `no worker has taken a cell for ${IDLE_HINT_MS / 1000} s: start workers with ` +
              `nnc worker --queue ${url.display}`,
          );
        }
        if (lost !== undefined) {
          progress.note(`queue ${url.display}: connected again`);
          lost = undefined;
        }
      } catch (error) {
        onError(error);
      }
      if (followed.size === 0) break;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, POLL_MS)))]);
      clearTimeout(timer);
    }
  } finally {
    wake = undefined;
    await Promise.allSettled([events.close(), queue.close()]);
  }
  if (failures.length > 0) {
    failures.sort((a, b) => a.cell.index - b.cell.index);
    fail(
      "E662",
      {
        failed: failures.length,
        total: options.cells.length,
        experiment: options.job.experiment,
        cells: failures.map((f) => `  ${tag(f.cell)}: ${indent(f.reason)}`).join("\n"),
      },
      {
        help:
          "results.json holds the cells that finished; fix what failed (the data on the workers, their memory) " +
          "and run again with --resume: failed cells are tried anew",
      },
    );
  }
  return { workers: [...workers] };
}

/** A cell's job: its id, its retries, how long it is kept once finished. */
const jobOptions = (jobId: string) => ({
  jobId,
  attempts: CELL_ATTEMPTS,
  backoff: { type: "fixed", delay: 1000 },
  removeOnComplete: KEEP_FINISHED,
  removeOnFail: KEEP_FINISHED,
});

const indent = (text: string) => text.replace(/\n/g, "\n    ");

/** A worker's progress message on the run's display; non-finite values (a diverging cell) arrive as null. */
function showProgress(progress: ExperimentProgress, cell: Cell, slot: number, data: CellProgress): void {
  const num = (x: number | null) => x ?? Number.NaN;
  if (data.type === "batch") {
    const event: BatchEvent = { ...data, loss: num(data.loss), accuracy: num(data.accuracy) };
    progress.batch(cell, slot, event);
  } else {
    const r = data.record;
    const record: EpochRecord = {
      epoch: r.epoch,
      loss: num(r.loss),
      accuracy: num(r.accuracy),
      valLoss: num(r.valLoss),
      valAccuracy: num(r.valAccuracy),
      seconds: r.seconds,
      samplesPerSecond: r.samplesPerSecond,
    };
    progress.epoch(cell, record);
  }
}
