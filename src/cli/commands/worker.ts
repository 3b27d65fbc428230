// nnc worker --queue URL: trains the cells that `nnc experiment FILE --queue URL` enqueues, on this machine, --jobs
// at a time, until stopped (Ctrl-C or SIGTERM: the cells in hand finish and are sent back; a second one stops at
// once, and those cells go back to the queue for another worker). BullMQ is loaded only here and with --queue.
import { availableParallelism } from "node:os";
import { parseQueueUrl } from "../../experiment/queue/url.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";

export interface WorkerOptions {
  queue: string;
  jobs?: number;
}

export async function workerCommand(io: CliIO, opts: WorkerOptions): Promise<number> {
  const url = parseQueueUrl(opts.queue);
  const { startQueueWorker } = await import("../../experiment/queue/work.ts");
  const worker = await startQueueWorker(io, { url, jobs: opts.jobs ?? availableParallelism() });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      io.err(`${signal} again: stopping now; the cells in hand go back to the queue for another worker\n`);
      process.exit(130);
    }
    stopping = true;
    io.err(`${signal}: stopping once the cells in hand are done (${signal} again stops now)\n`);
    void worker.close();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await worker.closed;
    io.err("worker stopped\n");
    return EXIT.ok;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}
