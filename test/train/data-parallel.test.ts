// Data-parallel training (src/train/parallel/): two threads, each with its own wasm backend and its share of
// every batch, train to the same weights, moving statistics and history as one thread, up to float rounding
// (batchnorm's statistics over the whole batch, dropout masks as one thread draws them, uneven shares, a batch
// smaller than the thread count); how many threads `auto` picks; failures stop every thread.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Dataset, Split } from "../../src/data/types.ts";
import { buildModel } from "../../src/lower/model.ts";
import type { EpochRecord, History, TrainState } from "../../src/runtime/types.ts";
import { Exchange, exchangeBuffers, PeerFailed } from "../../src/train/parallel/exchange.ts";
import { planThreads, stepWorkPerSample } from "../../src/train/parallel/plan.ts";
import { shares } from "../../src/train/parallel/step.ts";
import { startDataParallel } from "../../src/train/parallel/trainer.ts";
import { Network } from "../../src/lower/network.ts";
import { lowerLoss, modelLoss } from "../../src/lower/loss.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { createOptimizer } from "../../src/train/optimizers.ts";
import {
  blobData,
  blobs,
  closeness,
  dataset,
  program,
  useBackend,
  values,
  weightsOf,
} from "../lower/helpers.ts";

/** Trains `source` on `data` with `threads`; the history and every weight (moving statistics included). */
async function train(source: string, data: Dataset, threads: number, backend: "wasm" | "cpu" = "wasm") {
  const m = buildModel(program(source), { backend });
  let started = 0;
  const history = await m.fit(data, { threads, onStart: (info) => void (started = info.threads) });
  const weights = weightsOf(m);
  m.dispose();
  return { history, weights, started };
}

/**
 * Trains `source` on one thread and on two: the runs agree up to float rounding in every weight and every
 * epoch's figures. Returns the one-thread run.
 */
async function assertThreadsAgree(source: string, data: Dataset, backend: "wasm" | "cpu" = "wasm") {
  const one = await train(source, data, 1, backend);
  const two = await train(source, data, 2, backend);
  assert.is(one.history.threads, 1);
  assert.is(two.history.threads, 2);
  assert.is(two.started, 2, "onStart says how many threads train");
  const figures = (h: History) =>
    h.epochs.flatMap((e: EpochRecord) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]);
  const f = closeness(figures(two.history), figures(one.history), 1e-4, 1e-6);
  assert.ok(
    f <= 1,
    `history differs beyond float rounding (${f}): ${figures(two.history)} vs ${figures(one.history)}`,
  );
  for (const [name, w] of Object.entries(one.weights)) {
    const c = closeness(two.weights[name]!, w, 1e-4, 1e-5);
    assert.ok(c <= 1, `${name} differs beyond float rounding (${c})`);
  }
  return one;
}

const Parallel = suite("data-parallel training == one thread");
Parallel.before(() => useBackend("wasm"));

// Plain SGD: Adam divides each step by the gradient's running scale, which hides a gradient off by a constant
// factor (it hid batchnorm's gamma/beta gradients summed twice over threads).
const TRAIN = (lines: string) => `train {\n  data mnist\n  optimizer sgd lr=0.1\n  ${lines}\n  seed 5\n}`;

const DENSE_BN = `input 4; dense 16; batchnorm; relu; dropout 0.3; dense 8; batchnorm momentum=0.9; relu; dense 3 softmax
${TRAIN("batch 7\n  epochs 2")}`;

Parallel("dense batchnorm [N, C], dropout, odd batch (shares of 4 and 3 rows)", async () => {
  const data = blobData(240);
  const one = await assertThreadsAgree(DENSE_BN, data);
  // Not trivially equal: the runs did train.
  assert.ok(one.history.epochs[1]!.valAccuracy > 0.8, `${one.history.epochs[1]!.valAccuracy}`);
});

Parallel(
  "on the cpu backend too (it keeps the arrays tensors are made from: no aliasing of exchange buffers)",
  async () => {
    await useBackend("cpu");
    try {
      const data = blobData(120);
      await assertThreadsAgree(DENSE_BN, data, "cpu");
    } finally {
      await useBackend("wasm");
    }
  },
);

Parallel(
  "a batchnorm with more channels than the model has trainable weights (the moments exchange fits)",
  async () => {
    const source = `input 16; batchnorm center=false scale=false; dense 2 softmax\n${TRAIN("batch 8\n  epochs 1")}`;
    const data = blobData(64, 2, 16);
    await assertThreadsAgree(source, data);
  },
);

const images = (count: number, seed: number): Split => blobs(count, 3, 36, seed);

Parallel(
  "conv NHWC batchnorm, max pooling; a final one-sample batch merged (9 rows: shares of 5 and 4)",
  async () => {
    const data: Dataset = dataset(images(97, 3), images(30, 4), [6, 6, 1], 3);
    const source = `input 6x6x1; conv2d 4 3x3 padding=same; batchnorm; relu; maxpool 2x2; flatten; dense 3 softmax
${TRAIN("batch 8\n  epochs 2")}`;
    await assertThreadsAgree(source, data);
  },
);

Parallel(
  "without batchnorm a final batch of one sample is thread 0's alone (the other adds zeros)",
  async () => {
    const data: Dataset = dataset(images(97, 3), images(30, 4), [6, 6, 1], 3);
    const source = `input 6x6x1; conv2d 4 3x3 padding=same; relu; maxpool 2x2; flatten; dense 3 softmax
${TRAIN("batch 8\n  epochs 2")}`;
    await assertThreadsAgree(source, data);
  },
);

Parallel(
  "a resumed run keeps its checkpoint's thread count under auto and continues bit for bit",
  async () => {
    const source = `input 4; dense 16; batchnorm; relu; dense 3 softmax\n${TRAIN("batch 8\n  epochs 2")}`;
    const data = blobData(96);
    const whole = buildModel(program(source), { backend: "wasm" });
    let after1: TrainState | undefined;
    await whole.fit(data, {
      threads: 2,
      onEpochEnd: (r, state) => void (r.epoch === 1 && (after1 = state())),
    });
    assert.equal(after1!.computedOn, { backend: "wasm", threads: 2 });
    const resumed = buildModel(program(source), { backend: "wasm" });
    // `auto` alone would pick one thread for 12 remaining steps.
    const h = await resumed.fit(data, { resumeFrom: after1! });
    assert.is(h.threads, 2);
    assert.is(h.notes, undefined);
    assert.equal(weightsOf(resumed), weightsOf(whole));
    whole.dispose();
    resumed.dispose();
  },
);

Parallel("a thread that cannot start fails the run with its reason; nothing is left running", async () => {
  const p = program(`input 4; dense 3 softmax\n${TRAIN("batch 8\n  epochs 1")}`);
  const net = new Network(p.models[0]!, 1);
  const gradients = manualGradients(net, lowerLoss(net, modelLoss(net.model, p.train.loss)))!;
  const optimizer = createOptimizer(p.train.optimizer, net.trainable);
  try {
    await startDataParallel({
      net,
      train: p.train,
      optimizer,
      gradients,
      threads: 2,
      backend: "tensorflow", // not installed here: the thread's backend selection fails
    }).then(
      () => assert.unreachable("started"),
      (e: Error) => assert.match(e.message, /training thread 1 could not start: .*tensorflow/),
    );
  } finally {
    optimizer.dispose();
    net.dispose();
  }
});

Parallel.run();

const Plan = suite("how many threads, and each thread's rows");

Plan("shares: consecutive, as equal as possible; fewer rows than threads all on thread 0", () => {
  assert.equal(shares(7, 2), [
    { offset: 0, rows: 4 },
    { offset: 4, rows: 3 },
  ]);
  assert.equal(shares(9, 3), [
    { offset: 0, rows: 3 },
    { offset: 3, rows: 3 },
    { offset: 6, rows: 3 },
  ]);
  assert.equal(shares(1, 2), [
    { offset: 0, rows: 1 },
    { offset: 0, rows: 0 },
  ]);
});

Plan("auto: two threads only for enough work per step and a long enough run", async () => {
  const mlp = program(
    `input 784; dense 128; batchnorm; relu; dense 64; relu; dense 10 softmax\n${TRAIN("batch 32")}`,
  ).models[0]!;
  const convnet = program(
    `input 28x28x1; conv2d 16 3x3 padding=same; batchnorm; relu; maxpool 2x2; conv2d 32 3x3 padding=same; batchnorm; relu; maxpool 2x2; flatten; dense 64; relu; dense 10 softmax\n${TRAIN("batch 32")}`,
  ).models[0]!;
  // dense: the kernel's multiply-adds; conv: at every output position, counted twice.
  assert.is(stepWorkPerSample(mlp), 784 * 128 + 128 * 64 + 64 * 10);
  assert.is(stepWorkPerSample(convnet), 2 * (9 * 16 * 784 + 9 * 16 * 32 * 196) + 1568 * 64 + 640);
  const plan = (model: typeof mlp, batch: number, o: Partial<Parameters<typeof planThreads>[0]> = {}) =>
    planThreads({ requested: "auto", model, batch, steps: 1000, compiledStep: true, backend: "wasm", ...o })
      .threads;
  const cores = (await import("node:os")).availableParallelism();
  assert.is(plan(mlp, 128), 1);
  assert.is(plan(mlp, 512), cores >= 2 ? 2 : 1);
  assert.is(plan(convnet, 32), cores >= 2 ? 2 : 1);
  assert.is(plan(convnet, 32, { steps: 50 }), 1, "a short run");
  assert.is(plan(convnet, 32, { backend: "tensorflow" }), 1, "tfjs-node threads itself");
  assert.is(plan(mlp, 32, { requested: 2 }), 2, "asked for");
  assert.is(plan(mlp, 512, { requested: 1 }), 1);
  const uncovered = planThreads({
    requested: 2,
    model: mlp,
    batch: 32,
    steps: 10,
    compiledStep: false,
    backend: "wasm",
  });
  assert.is(uncovered.threads, 1);
  assert.match(uncovered.why!, /compiled training step does not cover/);
});

Plan("threads must be auto or a whole number from 1 to 64", async () => {
  const m = buildModel(program(`input 4; dense 3 softmax\n${TRAIN("batch 16\n  epochs 1")}`), {
    backend: "wasm",
  });
  for (const threads of [2.5, 0, -1, 65, Number.NaN]) {
    await m.fit(blobData(32), { threads }).then(
      () => assert.unreachable(`threads ${threads} accepted`),
      (e: Error) => assert.match(e.message, /threads must be "auto" or an integer from 1 to 64/),
    );
  }
  m.dispose();
});

Plan("a network only autograd trains runs one thread, with a note when two were asked for", async () => {
  await useBackend("wasm");
  const m = buildModel(program(`input 4; dense 8 gelu; dense 3 softmax\n${TRAIN("batch 16\n  epochs 1")}`), {
    backend: "wasm",
  });
  const h = await m.fit(blobData(64), { threads: 2 });
  m.dispose();
  assert.is(h.threads, 1);
  assert.ok(
    h.notes?.some((n) => /trained on 1 thread, not 2: .*does not cover/.test(n)),
    `${h.notes}`,
  );
});

Plan.run();

const Exchanges = suite("the exchange between threads");

Exchanges("one thread: allSum and allGather return its own values", () => {
  const ex = new Exchange(exchangeBuffers(1, 8), 0);
  assert.equal(Array.from(ex.allSum(Float32Array.of(1, 2, 3))), [1, 2, 3]);
  assert.equal(Array.from(ex.allSum(Float32Array.of(4))), [4], "the second round's slots");
  assert.equal(
    ex.allGather(Float32Array.of(5, 6)).map((a) => Array.from(a)),
    [[5, 6]],
  );
  assert.throws(() => ex.allSum(new Float32Array(9)), /exchange of 9 > 8 floats/);
});

Exchanges("an abort stops a thread waiting for its peer, with the first failing thread's message", () => {
  const buffers = exchangeBuffers(2, 4);
  const main = new Exchange(buffers, 0);
  const other = new Exchange(buffers, 1);
  other.abort("training thread 1: out of memory");
  main.abort("a later message is not kept");
  assert.ok(main.aborted);
  try {
    main.allSum(Float32Array.of(1));
    assert.unreachable("waited for a peer that stopped");
  } catch (e) {
    assert.instance(e, PeerFailed);
    assert.is((e as Error).message, "training thread 1: out of memory");
  }
  assert.throws(() => main.nextCommand(0), /out of memory/);
});

Exchanges("the main thread gives up on a peer that never arrives (a thread that died outright)", () => {
  const buffers = exchangeBuffers(2, 4);
  const main = new Exchange(buffers, 0, 50);
  const began = performance.now();
  assert.throws(() => main.allSum(Float32Array.of(1)), /stopped responding/);
  assert.ok(performance.now() - began >= 50);
  assert.ok(main.aborted, "the others are told");
  assert.throws(() => new Exchange(buffers, 1).nextCommand(0), /stopped responding/);
});

Exchanges.run();
