// Data-parallel training, the main thread's side: starts the other training threads (each with its own tfjs
// backend: the wasm backend runs one core per thread), hands each step's rows to them through shared memory,
// runs its own share, and checks after every epoch that every thread's weights are still the same.
import * as tf from "@tensorflow/tfjs-core";
import type { Worker } from "node:worker_threads";
import type { Batch } from "../../data/batches.ts";
import type { Train } from "../../ir/schema.ts";
import type { Network } from "../../lower/network.ts";
import type { BackendName } from "../../runtime/types.ts";
import type { Random } from "../../util/random.ts";
import { sizeOf } from "../../util/shape.ts";
import { startWorker } from "../../util/worker-entry.ts";
import type { Optimizer } from "../optimizers.ts";
import type { GradientFn } from "../step.ts";
import { weightData } from "../weights.ts";
import { Exchange, exchangeBuffers, PeerFailed } from "./exchange.ts";
import type { FromThread, ThreadSetup } from "./setup.ts";
import { gatherWeights, parallelStepper, shares } from "./step.ts";

export interface DataParallel {
  readonly threads: number;
  /** One step over the whole batch, every thread on its share. */
  step(
    batch: Batch,
    epoch: number,
    dropoutRng: ((layer: string) => Random) | undefined,
    lr?: number,
  ): {
    loss: number;
    correct: number;
  };
  /** Throws if any thread's weights differ from this thread's (they are updated by the same float operations). */
  verify(epoch: number): void;
  close(): Promise<void>;
}

export interface DataParallelOptions {
  net: Network;
  /** Train settings with overrides applied. */
  train: Train;
  optimizer: Optimizer;
  /** The compiled step's gradient function (the other threads build the same one from the IR). */
  gradients: GradientFn;
  threads: number;
  backend: BackendName;
  /** The training loss's weight per class (src/train/class-weights.ts), which the other threads cannot count. */
  classWeights?: Float32Array;
}

/**
 * How long the main thread waits for a peer in an exchange before it calls the run failed. The threads do equal
 * work, so a peer arrives within milliseconds; a minute covers long GC pauses on big heaps.
 */
const STALL_LIMIT_MS = 60_000;

/** Starts `threads - 1` training threads from the network's current weights and optimizer state. */
export async function startDataParallel(o: DataParallelOptions): Promise<DataParallel> {
  const { net, train, optimizer, gradients, threads } = o;
  const sampleSize = sizeOf(net.inputShape);
  const params = net.trainable.reduce((n, w) => n + w.variable.size, 0);
  // The largest exchange: a step's gradients, loss and correct count, or a batchnorm layer's moments (each
  // thread's mean and variance per channel, gathered). The weights check goes in chunks of what fits.
  const channels = Math.max(0, ...net.batchNorms.map((b) => b.weights.movingMean.size));
  const buffers = exchangeBuffers(threads, Math.max(params + 2, 2 * channels * threads, threads));
  // A batch may hold one row more than `batch` (a final one-sample batch merged into it: data/batches.ts).
  const rows = train.batch + 1;
  const x = new SharedArrayBuffer(rows * sampleSize * 4);
  const y = new SharedArrayBuffer(rows * 4);
  const exchange = new Exchange(buffers, 0, STALL_LIMIT_MS);
  const weights = weightData(net);
  const state = { step: optimizer.step, slots: optimizer.slots() };
  const workers: Worker[] = [];
  const close = async () => {
    exchange.post({ kind: "stop", epoch: 0, step: 0, total: 0 });
    exchange.abort("training stopped");
    await Promise.all(workers.map((w) => w.terminate()));
  };
  try {
    for (let rank = 1; rank < threads; rank++) {
      const setup: ThreadSetup = {
        rank,
        exchange: buffers,
        x,
        y,
        model: net.model,
        train,
        backend: o.backend,
        weights,
        optimizer: state,
        ...(o.classWeights ? { classWeights: Array.from(o.classWeights) } : {}),
      };
      workers.push(startWorker(import.meta.url, "worker", { workerData: setup }));
    }
    await Promise.all(workers.map((w, i) => ready(w, i + 1)));
  } catch (e) {
    await close();
    throw e;
  }

  const xs = new Float32Array(x);
  const ys = new Int32Array(y);
  const runStep = parallelStepper(gradients, optimizer, net.trainable, exchange, true);
  return {
    threads,
    step(batch, epoch, dropoutRng, lr) {
      const all = shares(batch.size, threads);
      const rest = all[1]!; // the other threads' rows follow thread 0's
      if (rest.rows > 0) {
        xs.set(batch.x.subarray(rest.offset * sampleSize, batch.size * sampleSize), rest.offset * sampleSize);
        ys.set(batch.y.subarray(rest.offset, batch.size), rest.offset);
      }
      exchange.post({
        kind: "step",
        epoch,
        step: batch.step,
        total: batch.size,
        ...(lr !== undefined ? { lr } : {}),
      });
      const share = all[0]!;
      const xt = tf.tensor(
        batch.x.subarray(0, share.rows * sampleSize),
        [share.rows, ...net.inputShape],
        "float32",
      );
      const yt = tf.tensor1d(batch.y.subarray(0, share.rows), "int32");
      try {
        return runStep({
          x: xt,
          y: yt,
          dropoutRng,
          shares: all,
          total: batch.size,
          ...(lr !== undefined ? { lr } : {}),
        });
      } catch (e) {
        throw stopOthers(exchange, e);
      } finally {
        xt.dispose();
        yt.dispose();
      }
    },
    verify(epoch) {
      exchange.post({ kind: "verify", epoch, step: 0, total: 0 });
      let all: Float32Array[];
      try {
        all = gatherWeights(exchange, net.trainable);
      } catch (e) {
        throw stopOthers(exchange, e);
      }
      const mine = new Uint32Array(all[0]!.buffer, all[0]!.byteOffset, all[0]!.length);
      for (let r = 1; r < threads; r++) {
        const theirs = new Uint32Array(all[r]!.buffer, all[r]!.byteOffset, all[r]!.length);
        const at = mine.findIndex((v, i) => v !== theirs[i]);
        if (at >= 0) {
          const e = new Error(
            `internal: after epoch ${epoch}, training thread ${r}'s copy of the weights differs from the main ` +
              `thread's (${weightAt(net, at)}); data-parallel threads must apply identical updates`,
          );
          throw stopOthers(exchange, e);
        }
      }
    },
    close,
  };
}

/** Resolves when the thread says it is ready; rejects with its error if it fails or exits first. */
function ready(worker: Worker, rank: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`training thread ${rank} exited with code ${code} while starting`));
    worker.once("exit", onExit);
    worker.once("error", reject);
    worker.once("message", (m: FromThread) => {
      worker.off("exit", onExit);
      if (m.type === "ready") resolve();
      else reject(new Error(`training thread ${rank} could not start: ${m.message}`));
    });
  });
}

/** A failure in this thread stops the others (a peer's failure already did). */
function stopOthers(exchange: Exchange, e: unknown): unknown {
  if (!(e instanceof PeerFailed))
    exchange.abort(`main thread: ${e instanceof Error ? e.message : String(e)}`);
  return e;
}

function weightAt(net: Network, index: number): string {
  let o = 0;
  for (const w of net.trainable) {
    if (index < o + w.variable.size) return `${w.name}[${index - o}]`;
    o += w.variable.size;
  }
  return `value ${index}`;
}
