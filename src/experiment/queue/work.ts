// Experiments on a queue, a worker's side (`nnc worker --queue URL`): a BullMQ Worker that takes cell jobs, up to
// --jobs at once, each trained by the sandboxed processor (processor.ts) in a worker thread of its own. The event
// loop here only talks to Redis, so it renews each job's lock while the cell trains; a worker killed mid-cell
// stops renewing, and BullMQ's stalled-job check (run by every worker) gives the cell back to the queue.
// Loaded only by `nnc worker` (dynamic import).
import { Worker, type Job } from "bullmq";
import type { CliIO } from "../../cli/io.ts";
import { VERSION } from "../../version.ts";
import { workerModuleFile } from "../../util/worker-entry.ts";
import {
  validateCellJob,
  validateCellReturn,
  workerName,
  QUEUE_NAME,
  type CellJob,
  type CellReturn,
} from "./job.ts";
import { checkRedis, connectionOptions, reasonOf } from "./redis.ts";
import type { QueueUrl } from "./url.ts";

/**
 * How long a job's lock lasts unless renewed (renewed every half of it), and how often workers look for jobs
 * whose lock ran out. BullMQ's default, 30 s; NNC_QUEUE_LOCK_MS changes it (tests use a short one to show that
 * a cell longer than the lock still runs once).
 */
export function lockDurationMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.NNC_QUEUE_LOCK_MS);
  return Number.isInteger(value) && value >= 200 ? value : 30_000;
}

/** Times a cell may lose its worker (killed, frozen) and go back to the queue before it fails for good. */
export const MAX_STALLED = 3;

export interface QueueWorker {
  /** Resolves when the worker has stopped. */
  readonly closed: Promise<void>;
  /** Stops taking cells and waits for the ones in hand (they finish and are sent back). */
  close(): Promise<void>;
}

const describe = (job: Job | undefined): string => {
  if (!job) return "a job";
  const data = job.data as unknown;
  if (validateCellJob(data).length > 0) return `job '${job.id}'`;
  const { cell, experiment, spec } = data as CellJob;
  return `cell ${cell.index + 1} of experiment '${experiment}' (${spec.file}): ${cell.group} seed ${cell.seed}`;
};

export async function startQueueWorker(
  io: CliIO,
  options: { url: QueueUrl; jobs: number },
): Promise<QueueWorker> {
  const { url, jobs } = options;
  await checkRedis(url);
  const name = workerName();
  const lockDuration = lockDurationMs();
  const worker = new Worker(QUEUE_NAME, workerModuleFile(import.meta.url, "processor"), {
    connection: connectionOptions(url),
    useWorkerThreads: true,
    workerThreadsOptions: { workerData: { nncVersion: VERSION } },
    concurrency: jobs,
    name,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: MAX_STALLED,
    autorun: false,
  });
  let lost = false;
  worker.on("error", (error) => {
    if (lost) return;
    lost = true;
    io.err(`worker ${name}: ${reasonOf(error, url)}; waiting for Redis at ${url.display}\n`);
  });
  worker.on("ready", () => {
    if (lost) io.err(`worker ${name}: connected again to ${url.display}\n`);
    lost = false;
  });
  worker.on("active", (job) => io.err(`started ${describe(job)}\n`));
  worker.on("completed", (job, value: unknown) => {
    const result = validateCellReturn(value).length === 0 ? (value as CellReturn).result : undefined;
    const how = !result
      ? ""
      : result.status === "diverged"
        ? `: diverged (${result.error})`
        : `: val_acc ${result.final.valAccuracy?.toFixed(4) ?? "–"}, ${result.seconds.toFixed(1)} s`;
    io.err(`finished ${describe(job)}${how}\n`);
  });
  worker.on("failed", (job, error) => {
    const retry = job && job.attemptsMade < (job.opts.attempts ?? 1) && error.name !== "UnrecoverableError";
    io.err(
      `failed ${describe(job)}${retry ? " (it goes back to the queue)" : ""}:\n${reasonOf(error, url)}\n`,
    );
  });
  worker.on("stalled", (jobId) => io.err(`job '${jobId}' lost its worker; it goes back to the queue\n`));

  await worker.waitUntilReady();
  io.err(
    `worker ${name}: training cells from ${url.display} (queue ${QUEUE_NAME}), ${jobs} at a time, ` +
      "each in a worker thread\n",
  );
  const closed = worker.run();
  return {
    closed: closed.then(() => {}),
    close: async () => {
      await worker.close();
      await closed.catch(() => {});
    },
  };
}
