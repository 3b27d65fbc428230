// Training loop: learns a small task, same seed -> identical weights and history, no tensor leaks, resume equals
// an uninterrupted run, non-finite loss stops with E601, exact population statistics equal a direct computation,
// Keras optimizer formulas, E620 for batchnorm at batch 1.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { NncError } from "../../src/diagnostics/index.ts";
import { buildModel } from "../../src/lower/model.ts";
import { lowerLoss } from "../../src/lower/loss.ts";
import { Network, type BatchNormNode } from "../../src/lower/network.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import type { TrainState } from "../../src/runtime/types.ts";
import { createOptimizer } from "../../src/train/optimizers.ts";
import { KEPT_VALUES, recomputePopulationStatistics } from "../../src/train/population-stats.ts";
import { EVAL_BATCH, EVAL_BATCH_VALUES, evalBatchOf } from "../../src/train/evaluate.ts";
import {
  blobData,
  blobs,
  closeness,
  program,
  useBackend,
  values,
  weightsOf,
  withoutTimings,
} from "../lower/helpers.ts";

const MLP = (train: string) =>
  program(`input 4; dense 16; batchnorm; relu; dropout 0.2; dense 8; batchnorm; relu; dense 3 softmax
train {
  data mnist
  ${train}
}`);
const SETTINGS = "optimizer adam lr=0.01\n  batch 16\n  epochs 4\n  seed 3";

const Fit = suite("training loop");
Fit.before(() => useBackend("wasm"));

Fit("a tiny model reaches high accuracy on separable blobs", async () => {
  const m = buildModel(MLP(SETTINGS), { backend: "wasm" });
  const h = await m.fit(blobData(), { evalTrain: true });
  const last = h.epochs.at(-1)!;
  assert.is(h.epochs.length, 4);
  assert.ok(last.valAccuracy > 0.9, `validation accuracy ${last.valAccuracy}`);
  assert.ok(last.trainEvalAccuracy! > 0.9, `train (inference mode) accuracy ${last.trainEvalAccuracy}`);
  assert.ok(h.epochs[0]!.loss > last.loss, "loss falls");
  assert.ok(last.samplesPerSecond > 0 && last.seconds > 0);
  m.dispose();
});

Fit("same seed, same backend: identical weights and history; another seed differs", async () => {
  const run = async (seed: number) => {
    const m = buildModel(MLP(SETTINGS), { backend: "wasm", seed });
    const h = await m.fit(blobData(), { train: { seed } });
    const w = weightsOf(m);
    m.dispose();
    return { h: withoutTimings(h.epochs), w };
  };
  const a = await run(3);
  const b = await run(3);
  const c = await run(4);
  assert.equal(a.h, b.h);
  assert.equal(a.w, b.w);
  assert.not.equal(a.w["dense/kernel"], c.w["dense/kernel"]);
});

Fit(
  "an epoch lets the event loop run (Ctrl-C, progress timers) instead of holding it to the end",
  async () => {
    const m = buildModel(MLP(SETTINGS.replace("epochs 4", "epochs 1")), { backend: "wasm" });
    let fired = 0;
    const timer = setInterval(() => fired++, 1);
    const seen: number[] = [];
    await m.fit(blobData(), {
      onBatchEnd: (e) => {
        seen.push(fired);
        // The first step takes longer than the yield interval: the loop must yield before the next one.
        if (e.step === 1) for (const end = performance.now() + 80; performance.now() < end;);
      },
    });
    clearInterval(timer);
    m.dispose();
    assert.is(seen[0], 0, "no timer ran before the first step ended (it was all synchronous)");
    assert.ok(seen[1]! > 0, `a timer ran between steps 1 and 2 (${seen.slice(0, 3)})`);
  },
);

Fit("no tensor leaks: tf.memory().numTensors is the same after every epoch", async () => {
  const m = buildModel(MLP(SETTINGS + "\n  bnstats exact"), { backend: "wasm" });
  const counts: number[] = [];
  await m.fit(blobData(), { evalTrain: true, onEpochEnd: () => void counts.push(tf.memory().numTensors) });
  assert.is(counts.length, 4);
  assert.ok(
    counts.every((n) => n === counts[0]),
    `${counts}`,
  );
  const before = tf.memory().numTensors;
  m.evaluate(blobData().validation);
  assert.is(tf.memory().numTensors, before, "evaluate");
  const x = tf.ones([3, 4]);
  tf.dispose([m.predict(x), m.predict(x, { training: true })]);
  x.dispose();
  assert.is(tf.memory().numTensors, before, "predict");
  m.dispose();
});

for (const opt of [
  "adam lr=0.01",
  "sgd lr=0.05 momentum=0.9 nesterov=true",
  "rmsprop lr=0.005 momentum=0.5",
]) {
  Fit(
    `resume from a checkpoint equals the uninterrupted run (${opt.split(" ")[0]}, dropout, batchnorm)`,
    async () => {
      const settings = `optimizer ${opt}\n  batch 16\n  epochs 4\n  seed 9\n  bnstats ema`;
      const whole = buildModel(MLP(settings), { backend: "wasm" });
      let at2: TrainState | undefined;
      const full = await whole.fit(blobData(), {
        onEpochEnd: (r, state) => {
          if (r.epoch === 2) at2 = state();
        },
      });
      assert.ok(at2);
      assert.is(at2!.epochsDone, 2);
      assert.ok(Object.keys(at2!.optimizer.slots).length > 0);
      // A fresh process would rebuild the model (other initial weights are overwritten by the checkpoint).
      const resumed = buildModel(MLP(settings), { backend: "wasm", seed: 1234 });
      const rest = await resumed.fit(blobData(), { resumeFrom: at2! });
      assert.equal(withoutTimings(rest.epochs), withoutTimings(full.epochs));
      assert.equal(weightsOf(resumed), weightsOf(whole));
      assert.equal(at2!.computedOn, { backend: "wasm", threads: 1 });
      assert.is(rest.notes, undefined, "same backend and threads: no note");
      whole.dispose();
      resumed.dispose();
    },
  );
}

Fit("resuming on another backend or thread count says the result is equal up to float rounding", async () => {
  const settings = "optimizer adam lr=0.01\n  batch 16\n  epochs 2\n  seed 9";
  const first = buildModel(MLP(settings), { backend: "wasm" });
  let at1: TrainState | undefined;
  await first.fit(blobData(), { onEpochEnd: (r, state) => void (r.epoch === 1 && (at1 = state())) });
  first.dispose();
  const resumed = buildModel(MLP(settings), { backend: "wasm" });
  const h = await resumed.fit(blobData(), {
    resumeFrom: { ...at1!, computedOn: { backend: "cpu", threads: 1 } },
  });
  resumed.dispose();
  assert.equal(h.notes, [
    "resumed on wasm with 1 thread after cpu with 1 thread: the result equals an uninterrupted run up to float " +
      "rounding, not bit for bit",
  ]);
});

Fit("a non-finite loss stops with E601 naming epoch, step and the learning rate", async () => {
  const p = program(`input 4; dense 16; relu; dense 3 softmax
train {
  data mnist
  optimizer sgd lr=1000000
  batch 16
  epochs 3
}`);
  const m = buildModel(p, { backend: "wasm" });
  const data = blobData();
  for (let i = 0; i < data.train.x.length; i++) data.train.x[i]! *= 100;
  const before = tf.memory().numTensors;
  let epochsEnded = 0;
  try {
    await m.fit(data, { onEpochEnd: () => void epochsEnded++ });
    assert.unreachable("should stop");
  } catch (e) {
    assert.instance(e, NncError);
    const d = (e as NncError).diagnostic;
    assert.is(d.code, "E601");
    assert.match(d.message, /at epoch 1, step \d+/);
    assert.match(d.message, /learning rate 1000000 .*sgd/);
  }
  assert.is(epochsEnded, 0);
  assert.is(tf.memory().numTensors, before, "nothing leaks on the way out");
  m.dispose();
});

Fit("batchnorm at batch 1 is E620 before any step", async () => {
  const m = buildModel(MLP("batch 1\n  epochs 1"), { backend: "wasm" });
  try {
    await m.fit(blobData());
    assert.unreachable();
  } catch (e) {
    assert.is((e as NncError).diagnostic?.code, "E620");
  }
  m.dispose();
});

Fit(
  "a convnet (autograd path: conv, pooling, layernorm) trains deterministically without leaks",
  async () => {
    const p =
      program(`input 6x6x1; conv2d 4 3x3 padding=same; batchnorm; relu; maxpool 2x2; layernorm; flatten; dropout 0.1; dense 3 softmax
train {
  data mnist
  optimizer adam lr=0.02
  batch 16
  epochs 3
}`);
    const blob = blobData(120, 3, 36);
    const data = { ...blob, sampleShape: [6, 6] };
    const run = async () => {
      const m = buildModel(p, { backend: "wasm" });
      const counts: number[] = [];
      const h = await m.fit(data, { onEpochEnd: () => void counts.push(tf.memory().numTensors) });
      const w = weightsOf(m);
      m.dispose();
      return { h: withoutTimings(h.epochs), w, counts };
    };
    const a = await run();
    const b = await run();
    assert.equal(a.h, b.h);
    assert.equal(a.w, b.w);
    assert.ok(
      a.counts.every((n) => n === a.counts[0]),
      `${a.counts}`,
    );
    assert.ok(a.h.at(-1)!.valAccuracy > 0.8, `validation accuracy ${a.h.at(-1)!.valAccuracy}`);
  },
);

const Stats = suite("population statistics");

/** A batchnorm's population mean and biased variance equal those of its inputs `h` (all samples), in float64. */
function assertPopulationStatistics(node: BatchNormNode, h: number[], rtol: number, atol: number): void {
  const channels = node.weights.movingMean.shape[0]!;
  const column = (c: number) => h.filter((_, i) => i % channels === c);
  const n = h.length / channels;
  const mean = Array.from({ length: channels }, (_, c) => column(c).reduce((a, b) => a + b, 0) / n);
  const variance = mean.map((mu, c) => column(c).reduce((a, b) => a + (b - mu) ** 2, 0) / n);
  assert.ok(closeness(values(node.weights.movingMean), mean, rtol, atol) <= 1, `${node.layer.name} mean`);
  assert.ok(
    closeness(values(node.weights.movingVariance), variance, rtol, atol) <= 1,
    `${node.layer.name} variance`,
  );
}
Stats.before(() => useBackend("wasm"));

Stats(
  "exact statistics equal a direct computation, layer by layer with earlier layers in inference mode",
  async () => {
    const p = MLP(SETTINGS.replace("epochs 4", "epochs 1") + "\n  bnstats exact");
    const m = buildModel(p, { backend: "wasm" });
    const data = blobData();
    await m.fit(data);
    // Recompute by hand: all training samples in one batch, in float64.
    const net = (m as unknown as { net: Network }).net;
    for (const node of net.batchNorms) {
      const h = tf.tidy(() =>
        values(
          net.forward(tf.tensor2d(data.train.x, [data.train.count, 4]), {
            training: false,
            stop: node.index,
          }),
        ),
      );
      assertPopulationStatistics(node, h, 1e-4, 1e-5);
    }
    m.dispose();
  },
);

Stats("exact statistics of conv (NHWC) batchnorms equal a direct float64 computation, in batches", () => {
  const p = program(
    "input 6x6x1; conv2d 5 3x3 padding=same; batchnorm; relu; maxpool 2x2; conv2d 3 3x3; batchnorm; relu; flatten; dense 2 softmax",
  );
  const net = new Network(p.models[0]!, 3);
  const split = blobs(50, 2, 36, 4);
  recomputePopulationStatistics(net, split, 16);
  for (const node of net.batchNorms) {
    const h = tf.tidy(() =>
      values(net.forward(tf.tensor4d(split.x, [50, 6, 6, 1]), { training: false, stop: node.index })),
    );
    assertPopulationStatistics(node, h, 1e-5, 1e-6);
  }
  net.dispose();
});

Stats(
  "batches merged exactly: the result does not depend on the batch size; unbiased scales by n/(n-1)",
  () => {
    const p = program(
      "input 3; dense 5; batchnorm; relu; dense 4; batchnorm variance=unbiased; dense 2 softmax",
    );
    const net = new Network(p.models[0]!, 2);
    const split = blobData(100, 2, 3).train;
    recomputePopulationStatistics(net, split, 7);
    const small = net.batchNorms.map((b) => [values(b.weights.movingMean), values(b.weights.movingVariance)]);
    recomputePopulationStatistics(net, split, 1000);
    const large = net.batchNorms.map((b) => [values(b.weights.movingMean), values(b.weights.movingVariance)]);
    for (let i = 0; i < 2; i++) {
      assert.ok(closeness(small[i]![0]!, large[i]![0]!, 1e-5, 1e-6) <= 1);
      assert.ok(closeness(small[i]![1]!, large[i]![1]!, 1e-4, 1e-6) <= 1);
    }
    const h = tf.tidy(() =>
      values(
        net.forward(tf.tensor2d(split.x, [100, 3]), { training: false, stop: net.batchNorms[1]!.index }),
      ),
    );
    const col = h.filter((_, i) => i % 4 === 0);
    const mu = col.reduce((a, b) => a + b) / 100;
    const unbiased = col.reduce((a, b) => a + (b - mu) ** 2, 0) / 99;
    assert.ok(Math.abs(large[1]![1]![0]! - unbiased) < 1e-4 * unbiased + 1e-6);
    net.dispose();
  },
);

Stats(
  "the pass that starts from the kept input of the previous batchnorm equals the one that starts at the input, bit for bit",
  () => {
    // A chain with three batchnorms (one right after another, where the kept input is the given tensor itself)
    // and a residual graph, whose skip path crosses a batchnorm: the kept value alone does not cover it.
    const specs = [
      "input 3; dense 6; batchnorm; relu; dense 5; batchnorm; batchnorm; tanh; dense 2 softmax",
      "input 3; dense 4; batchnorm; relu; residual { dense 4; batchnorm; relu; dense 4; batchnorm }; dense 2 softmax",
    ];
    for (const spec of specs) {
      const split = blobData(90, 2, 3).train;
      const stats = (keptValues: number) => {
        const net = new Network(program(spec).models[0]!, 5);
        const before = tf.memory().numTensors;
        recomputePopulationStatistics(net, split, 16, keptValues);
        assert.is(tf.memory().numTensors, before, "no tensor left behind");
        const out = net.batchNorms.map((b) => [
          values(b.weights.movingMean),
          values(b.weights.movingVariance),
        ]);
        net.dispose();
        return out;
      };
      const fromInput = stats(0);
      const fromKept = stats(KEPT_VALUES);
      assert.equal(fromKept, fromInput, spec);
      // The statistics differ between layers (else equal results would prove little).
      assert.not.equal(fromInput[0]![0], fromInput[1]![0]!.slice(0, fromInput[0]![0]!.length));
    }
  },
);

Stats(
  "ema mode: inference uses the moving averages of the steps (moving mean leaves 0 after one epoch)",
  async () => {
    const m = buildModel(MLP(SETTINGS.replace("epochs 4", "epochs 1") + "\n  bnstats ema"), {
      backend: "wasm",
    });
    await m.fit(blobData());
    const mm = values(m.getWeights()["batch_normalization/moving_mean"]!);
    assert.ok(mm.some((v) => v !== 0));
    m.dispose();
  },
);

Stats(
  "bnstats sample=N: a seeded subset (same run, same statistics; not the full set's); train overrides apply",
  async () => {
    const run = async (sample?: number) => {
      const m = buildModel(MLP(SETTINGS), { backend: "wasm" });
      const h = await m.fit(blobData(), {
        train: { epochs: 1, bnstats: sample === undefined ? { mode: "exact" } : { mode: "exact", sample } },
      });
      assert.is(h.epochs.length, 1, "epochs override");
      const v = values(m.getWeights()["batch_normalization/moving_variance"]!);
      m.dispose();
      return v;
    };
    const a = await run(30);
    assert.equal(await run(30), a);
    assert.not.equal(await run(), a);
    assert.ok(a.every((v) => Number.isFinite(v) && v >= 0));
  },
);

Fit("data whose samples do not fit the input is E507 before training", async () => {
  const m = buildModel(MLP(SETTINGS), { backend: "wasm" });
  const data = { ...blobData(), sampleShape: [5] };
  try {
    await m.fit(data);
    assert.unreachable();
  } catch (e) {
    assert.is((e as NncError).diagnostic?.code, "E507");
  }
  m.dispose();
});

Stats(
  "inference batches shrink for wide activations (convnet-bn's 28x28x16 would take 50 MB at 1000)",
  () => {
    const conv = program(
      "input 28x28x1; conv2d 16 3x3 padding=same; batchnorm; relu; maxpool 2x2; flatten; dense 3 softmax",
    ).models[0]!;
    const batch = evalBatchOf(conv);
    assert.is(batch, Math.floor(EVAL_BATCH_VALUES / (28 * 28 * 16)));
    assert.ok(batch < EVAL_BATCH && batch >= 100, `${batch}`);
    assert.is(evalBatchOf(MLP(SETTINGS).models[0]!), EVAL_BATCH, "an MLP keeps full batches");
    const wideInput = program("input 64x64x3; flatten; dense 3 softmax").models[0]!;
    assert.is(evalBatchOf(wideInput), Math.floor(EVAL_BATCH_VALUES / (64 * 64 * 3)), "the input counts too");
  },
);

const Opt = suite("optimizers: Keras update formulas");
Opt.before(() => useBackend("wasm"));

function twoSteps(spec: Parameters<typeof createOptimizer>[0]): number[] {
  const w = tf.variable(tf.tensor1d([1, -2]), true, `opt-test-${Math.random()}`);
  const opt = createOptimizer(spec, [{ name: "w", variable: w, trainable: true }]);
  tf.tidy(() => opt.apply({ w: tf.tensor1d([0.5, -1]) }));
  tf.tidy(() => opt.apply({ w: tf.tensor1d([0.1, 2]) }));
  assert.is(opt.step, 2);
  const out = values(w);
  opt.dispose();
  w.dispose();
  return out;
}

Opt("adam: epsilon added to sqrt(v) of the uncorrected v, lr scaled by sqrt(1-b2^t)/(1-b1^t)", () => {
  const [lr, b1, b2, eps] = [0.1, 0.9, 0.999, 0.01];
  const expected = [1, -2].map((w0, i) => {
    let w = w0,
      m = 0,
      v = 0;
    [
      [0.5, -1],
      [0.1, 2],
    ].forEach((g, k) => {
      const t = k + 1;
      m += (g[i]! - m) * (1 - b1);
      v += (g[i]! ** 2 - v) * (1 - b2);
      w -= (m * lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t) / (Math.sqrt(v) + eps);
    });
    return w;
  });
  assert.ok(closeness(twoSteps({ type: "adam", lr, beta1: b1, beta2: b2, epsilon: eps }), expected) <= 1);
});

Opt("sgd with nesterov momentum", () => {
  const [lr, mu] = [0.1, 0.9];
  const expected = [1, -2].map((w0, i) => {
    let w = w0,
      m = 0;
    [
      [0.5, -1],
      [0.1, 2],
    ].forEach((g) => {
      m = mu * m - lr * g[i]!;
      w += mu * m - lr * g[i]!;
    });
    return w;
  });
  assert.ok(closeness(twoSteps({ type: "sgd", lr, momentum: mu, nesterov: true }), expected) <= 1);
});

Opt("rmsprop: epsilon inside the root, momentum accumulates increments", () => {
  const [lr, rho, mu, eps] = [0.1, 0.9, 0.5, 0.01];
  const expected = [1, -2].map((w0, i) => {
    let w = w0,
      v = 0,
      mom = 0;
    [
      [0.5, -1],
      [0.1, 2],
    ].forEach((g) => {
      v = rho * v + (1 - rho) * g[i]! ** 2;
      mom = mu * mom + (lr * g[i]!) / Math.sqrt(v + eps);
      w -= mom;
    });
    return w;
  });
  assert.ok(closeness(twoSteps({ type: "rmsprop", lr, rho, momentum: mu, epsilon: eps }), expected) <= 1);
});

Fit(
  "a bias before batchnorm trains on neither gradient path (absorbed) and is in the moving mean",
  async () => {
    // relu: the compiled step; gelu after the batchnorm: autograd (the compiled step does not cover it).
    for (const [path, act] of [
      ["compiled", "relu"],
      ["autograd", "gelu"],
    ] as const) {
      const p = program(`input 4; dense 8; batchnorm momentum=0.5; ${act}; dense 3 softmax
train {
  data mnist
  optimizer adam lr=0.01
  batch 16
  epochs 2
  seed 3
  bnstats ema
}`);
      const probe = new Network(p.models[0]!, 3);
      assert.is(
        manualGradients(probe, lowerLoss(probe, p.train.loss)) !== undefined,
        path === "compiled",
        path,
      );
      assert.equal(
        probe.absorbedBiases.map((w) => w.name),
        ["dense/bias"],
      );
      probe.dispose();
      // Two runs from the same weights but for the absorbed bias: training never sees it.
      const bias = Array.from({ length: 8 }, (_, c) => c - 3.5);
      const run = async (b: number[]) => {
        const m = buildModel(p, { backend: "wasm" });
        m.setWeights({ "dense/bias": b });
        const h = await m.fit(blobData());
        const w = weightsOf(m);
        m.dispose();
        return { w, steps: h.epochs.length * Math.floor(240 / 16) };
      };
      const withBias = await run(bias);
      const without = await run(new Array(8).fill(0));
      assert.equal(withBias.w["dense/bias"], bias, `${path}: the bias is unchanged`);
      for (const name of ["dense/kernel", "dense_1/kernel", "batch_normalization/gamma"]) {
        assert.equal(withBias.w[name], without.w[name], `${path}: ${name} does not depend on the bias`);
      }
      // Moving mean from 0 after n steps at momentum k: (1 - k^n) * (batch means), the bias included.
      const share = 1 - 0.5 ** withBias.steps;
      const shifted = withBias.w["batch_normalization/moving_mean"]!.map(
        (v, c) => v - without.w["batch_normalization/moving_mean"]![c]!,
      );
      assert.ok(
        closeness(
          shifted,
          bias.map((b) => b * share),
          1e-4,
          1e-5,
        ) <= 1,
        `${path}: moving mean ${shifted}`,
      );
    }
  },
);

Fit(
  "a final batch of one sample is merged, and the history says so once (33 samples at batch 32)",
  async () => {
    const p = MLP(SETTINGS.replace("batch 16", "batch 32").replace("epochs 4", "epochs 2"));
    const blobs = blobData();
    const cut = (count: number) => ({
      ...blobs,
      train: {
        ...blobs.train,
        x: blobs.train.x.slice(0, count * 4),
        y: blobs.train.y.slice(0, count),
        count,
      },
    });
    const fit = async (count: number) => {
      const m = buildModel(p, { backend: "wasm" });
      const steps: number[] = [];
      const h = await m.fit(cut(count), { onBatchEnd: (e) => steps.push(e.steps) });
      m.dispose();
      return { h, steps };
    };
    const merged = await fit(33);
    assert.equal(merged.steps, [1, 1], "one step per epoch: the 33rd sample joined the first batch");
    assert.equal(merged.h.notes, [
      "the last batch of each epoch would hold 1 sample (33 samples at batch 32): merged into the batch before " +
        "it, since batch normalization cannot normalize a single sample",
    ]);
    const even = await fit(34);
    assert.equal(even.steps, [2, 2, 2, 2]);
    assert.is(even.h.notes, undefined, "nothing merged, nothing said");
    // Without batch norm a batch of one is fine: nothing is merged.
    const plainProgram = program(
      `input 4; dense 8 relu; dense 3 softmax\ntrain {\n  data mnist\n  ${SETTINGS.replace("batch 16", "batch 32").replace("epochs 4", "epochs 2")}\n}`,
    );
    const plain = buildModel(plainProgram, { backend: "wasm" });
    const plainSteps: number[] = [];
    const ph = await plain.fit(cut(33), { onBatchEnd: (e) => plainSteps.push(e.steps) });
    plain.dispose();
    assert.equal(plainSteps, [2, 2, 2, 2]);
    assert.is(ph.notes, undefined);
  },
);

Fit.run();
Stats.run();
Opt.run();
