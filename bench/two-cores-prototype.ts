// Prototype (not the trainer): data parallelism over two worker_threads, each with its own wasm backend, for a
// model without batch norm. Each worker computes the gradient of half the batch, the halves are exchanged
// through a SharedArrayBuffer, and both apply the same averaged Adam update to their own copy of the weights
// (identical inputs, identical float ops: the copies stay equal). Prints ms/step against one core.
// Usage: npx tsx bench/two-cores-prototype.ts [mlp] [batch=512] [steps=100]
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import { resolveLoss } from "../src/check/loss.ts";
import { lowerLoss } from "../src/lower/loss.ts";
import { Network } from "../src/lower/network.ts";
import { selectBackend } from "../src/runtime/backend.ts";
import { manualGradients } from "../src/train/manual-backward.ts";
import { createOptimizer } from "../src/train/optimizers.ts";
import { Random } from "../src/util/random.ts";
import { benchProgram, type BenchModel } from "./peers/models.ts";

interface Shared {
  model: BenchModel;
  batch: number;
  steps: number;
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  sync: SharedArrayBuffer;
  params: number;
}

async function setUp(model: BenchModel, batch: number) {
  await selectBackend("wasm");
  const program = benchProgram(model, "mnist", batch);
  const net = new Network(program.models[0]!, 1);
  const loss = lowerLoss(net, resolveLoss(net.model, program.train.loss).loss);
  const grad = manualGradients(net, loss)!;
  const opt = createOptimizer(program.train.optimizer, net.trainable);
  return { net, grad, opt };
}

if (isMainThread) {
  const model = (process.argv[2] ?? "mlp") as BenchModel;
  const batch = Number(process.argv[3] ?? 512);
  const steps = Number(process.argv[4] ?? 100);
  const rng = new Random(1);
  const xs = Float32Array.from({ length: batch * 784 }, () => rng.next());
  const ys = Int32Array.from({ length: batch }, () => rng.int(10));

  // One core: the trainer's step.
  const one = await setUp(model, batch);
  const oneStep = () =>
    tf.tidy(() => {
      const x = tf.tensor(xs, [batch, ...one.net.inputShape]);
      const y = tf.tensor1d(ys, "int32");
      const g = one.grad({ x, y, dropoutRng: undefined }, []);
      one.opt.apply(g.grads);
      return g.loss.dataSync()[0]!;
    });
  for (let i = 0; i < 10; i++) oneStep();
  let began = performance.now();
  for (let i = 0; i < steps; i++) oneStep();
  const oneMs = (performance.now() - began) / steps;

  const params = one.net.trainable.reduce((a, w) => a + w.variable.size, 0);
  const shared: Shared = {
    model,
    batch,
    steps: steps + 10,
    x: new SharedArrayBuffer(xs.byteLength),
    y: new SharedArrayBuffer(ys.byteLength),
    grads: new SharedArrayBuffer(2 * params * 4),
    sync: new SharedArrayBuffer(16),
    params,
  };
  new Float32Array(shared.x).set(xs);
  new Int32Array(shared.y).set(ys);
  // Node 20 ignores `--import` in a worker's execArgv: a bootstrap registers tsx's loader first.
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const workers = [0, 1].map(
    (rank) => new Worker(bootstrap, { eval: true, workerData: { ...shared, rank } }),
  );
  const times = await Promise.all(
    workers.map((w) => new Promise<number>((resolve) => w.once("message", (m: number) => resolve(m)))),
  );
  await Promise.all(workers.map((w) => w.terminate()));
  const twoMs = Math.max(...times);
  console.log(
    `${model} batch ${batch}: one core ${oneMs.toFixed(2)} ms/step (${Math.round((batch / oneMs) * 1000)} samples/s), ` +
      `two workers ${twoMs.toFixed(2)} ms/step (${Math.round((batch / twoMs) * 1000)} samples/s): ${(oneMs / twoMs).toFixed(2)}x`,
  );
} else {
  const d = workerData as Shared & { rank: number };
  const { net, grad, opt } = await setUp(d.model, d.batch);
  const half = d.batch / 2;
  const x = new Float32Array(d.x, d.rank * half * 784 * 4, half * 784);
  const y = new Int32Array(d.y, d.rank * half * 4, half);
  const mine = new Float32Array(d.grads, d.rank * d.params * 4, d.params);
  const theirs = new Float32Array(d.grads, (1 - d.rank) * d.params * 4, d.params);
  const sync = new Int32Array(d.sync);
  const names = net.trainable.map((w) => w.name);
  let began = 0;
  let gradMs = 0;
  let fwdMs = 0;
  let applyMs = 0;
  let waitMs = 0;
  for (let s = 0; s < d.steps; s++) {
    if (s === 10) began = performance.now();
    tf.tidy(() => {
      const tg = performance.now();
      const g = grad(
        { x: tf.tensor(x, [half, ...net.inputShape]), y: tf.tensor1d(y, "int32"), dropoutRng: undefined },
        [],
      );
      const t0 = performance.now();
      if (s >= 10) fwdMs += t0 - tg;
      let o = 0;
      for (const n of names) {
        const v = g.grads[n]!.dataSync() as Float32Array;
        mine.set(v, o);
        o += v.length;
      }
      const t1 = performance.now();
      if (s >= 10) gradMs += t1 - t0;
      // Barrier: both halves written (a counter per step, two arrivals each).
      Atomics.add(sync, 0, 1);
      Atomics.notify(sync, 0);
      while (Atomics.load(sync, 0) < 2 * (s + 1)) Atomics.wait(sync, 0, Atomics.load(sync, 0), 5);
      if (s >= 10) waitMs += performance.now() - t1;
      const avg: Record<string, tf.Tensor> = {};
      o = 0;
      for (const w of net.trainable) {
        const a = new Float32Array(w.variable.size);
        for (let j = 0; j < a.length; j++) a[j] = (mine[o + j]! + theirs[o + j]!) / 2;
        avg[w.name] = tf.tensor(a, w.variable.shape);
        o += a.length;
      }
      // Second barrier: nobody overwrites its half before the other has read it.
      Atomics.add(sync, 1, 1);
      Atomics.notify(sync, 1);
      while (Atomics.load(sync, 1) < 2 * (s + 1)) Atomics.wait(sync, 1, Atomics.load(sync, 1), 5);
      const ta = performance.now();
      opt.apply(avg);
      if (s >= 10) applyMs += performance.now() - ta;
    });
  }
  const n = d.steps - 10;
  console.error(
    `worker ${d.rank}: forward+backward ${(fwdMs / n).toFixed(2)} ms, copy out ${(gradMs / n).toFixed(2)} ms, apply ${(applyMs / n).toFixed(2)} ms, wait ${(waitMs / n).toFixed(2)} ms`,
  );
  parentPort!.postMessage((performance.now() - began) / n);
}
