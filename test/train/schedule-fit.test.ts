// Schedules and early stopping in training (src/train/fit.ts with src/ir/learning-rate.ts): the optimizer takes each
// step's rate (history's lr is the mean of the formula's rates), early stopping stops at the right epoch and keeps
// the best epoch's weights and batchnorm statistics (equal to a run stopped there), a resumed run equals the
// uninterrupted one through the checkpoint file, one and two threads agree, and the autograd path agrees with the
// compiled step under a schedule.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { buildModel } from "../../src/lower/model.ts";
import type { CompiledModel, TrainState } from "../../src/runtime/types.ts";
import { checkpointFingerprint } from "../../src/save/fingerprint.ts";
import { writeCheckpoint } from "../../src/save/checkpoint.ts";
import { readCheckpoint } from "../../src/save/checkpoint-read.ts";
import { LearningRate } from "../../src/ir/learning-rate.ts";
import { createOptimizer } from "../../src/train/optimizers.ts";
import * as tf from "@tensorflow/tfjs-core";
import { failsWith, tempDir } from "../helpers.ts";
import {
  blobData,
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
  data mnist validation=0.2
  ${train}
}`);

async function fit(settings: string, options: Parameters<CompiledModel["fit"]>[1] = {}, seed?: number) {
  const m = buildModel(MLP(settings), { backend: "wasm", ...(seed !== undefined ? { seed } : {}) });
  const history = await m.fit(blobData(), options);
  const weights = weightsOf(m);
  m.dispose();
  return { history, weights };
}

const F = suite("schedules and early stopping in training");
F.before(() => useBackend("wasm"));

F(
  "each epoch's lr is the mean of the schedule's step rates; the steps take them (no schedule differs)",
  async () => {
    const settings =
      "sgd lr=0.2 momentum=0.9\n  batch 16\n  epochs 4\n  seed 3\n  schedule cosine min=0.01 warmup=1";
    const { history, weights } = await fit(settings);
    // 240 samples at batch 16: 15 steps an epoch.
    const rates = new LearningRate({ type: "cosine", min: 0.01, warmup: 1 }, 0.2, {
      epochs: 4,
      stepsPerEpoch: 15,
    });
    history.epochs.forEach((e, i) => {
      let sum = 0;
      for (let s = 0; s < 15; s++) sum += rates.atStep(i * 15 + s);
      assert.ok(Math.abs(e.lr! - sum / 15) < 1e-15, `epoch ${e.epoch}: ${e.lr} vs ${sum / 15}`);
    });
    const plain = await fit(settings.replace(/\n {2}schedule.*/, ""));
    assert.equal(
      plain.history.epochs.map((e) => e.lr),
      [0.2, 0.2, 0.2, 0.2],
    );
    assert.not.equal(
      weights["dense/kernel"],
      plain.weights["dense/kernel"],
      "the schedule changed the steps",
    );
  },
);

F(
  "early stopping stops at the right epoch and keeps the best epoch's weights and batchnorm statistics",
  async () => {
    // min_delta=1 on val_accuracy: only the first epoch improves, so patience 2 stops after epoch 3 and keeps
    // epoch 1: exactly the model of a run of 1 epoch (same steps), moving statistics included.
    const base = "adam lr=0.01\n  batch 16\n  seed 5\n  bnstats ema";
    const stopped = await fit(
      `${base}\n  epochs 8\n  early_stop monitor=val_accuracy patience=2 min_delta=1`,
    );
    assert.is(stopped.history.epochs.length, 3, "stopped after epoch 3");
    assert.equal(stopped.history.earlyStop, {
      monitor: "val_accuracy",
      bestEpoch: 1,
      stoppedAfter: 3,
      restored: true,
    });
    assert.match(
      stopped.history.notes!.join("\n"),
      "val_accuracy did not improve for 2 epochs after epoch 1; stopped after epoch 3; the model saved is epoch 1's",
    );
    // patience 0 stops at the first epoch without improvement (never after the first): 1 epoch waited, not 0.
    const eager = await fit(`${base}\n  epochs 8\n  early_stop monitor=val_accuracy patience=0 min_delta=1`);
    assert.is(eager.history.epochs.length, 2);
    assert.match(
      eager.history.notes!.join("\n"),
      "did not improve for 1 epoch after epoch 1; stopped after epoch 2",
    );
    const one = await fit(`${base}\n  epochs 1`);
    assert.equal(stopped.weights, one.weights, "the weights and moving statistics of epoch 1");
    assert.ok(stopped.weights["batch_normalization/moving_mean"], "batchnorm statistics are among them");

    // restore=false keeps the last epoch's: those of a run of 3 epochs.
    const last = await fit(
      `${base}\n  epochs 8\n  early_stop monitor=val_accuracy patience=2 min_delta=1 restore=false`,
    );
    const three = await fit(`${base}\n  epochs 3`);
    assert.equal(last.weights, three.weights);
    assert.is(last.history.earlyStop!.restored, false);
    assert.not.equal(last.weights, one.weights);
  },
);

F("early stopping and plateau refuse to watch the test set (E644)", async () => {
  const m = buildModel(MLP("adam\n  epochs 2\n  early_stop"), { backend: "wasm" });
  const testSet = { ...blobData(), validationName: "test" as const };
  const d = await failsWith("E644", m.fit(testSet));
  assert.match(d.message, /early_stop watches validation data/);
  m.dispose();
});

F(
  "resume through the checkpoint file equals the uninterrupted run (plateau, warm-up, early stopping)",
  async () => {
    // A high rate plateaus fast: patience 1 lowers it more than once in 7 epochs.
    const settings =
      "sgd lr=0.5 momentum=0.9\n  batch 16\n  epochs 9\n  seed 2\n  bnstats ema\n" +
      "  schedule plateau patience=1 factor=0.5 warmup=1\n  early_stop patience=3";
    const prog = MLP(settings);
    const whole = buildModel(prog, { backend: "wasm" });
    const dir = tempDir("sched-resume");
    let at: TrainState | undefined;
    const full = await whole.fit(blobData(), {
      onEpochEnd: (r, state) => {
        if (r.epoch === 4) at = state();
      },
    });
    const lrs = full.epochs.map((e) => e.lr!);
    assert.ok(
      lrs.some((lr, i) => i > 1 && lr < lrs[1]!),
      `the plateau schedule lowered the rate: ${lrs}`,
    );
    assert.ok(at?.schedule && at.earlyStop?.weights, "the state holds the plateau and the best weights");
    const fingerprint = checkpointFingerprint(prog, prog.models[0]!.name);
    writeCheckpoint(dir, at!, { fingerprint });
    const read = readCheckpoint(dir, fingerprint);
    assert.equal(read.schedule, at!.schedule);
    assert.equal(read.earlyStop, at!.earlyStop);

    const resumed = buildModel(prog, { backend: "wasm", seed: 77 });
    const rest = await resumed.fit(blobData(), { resumeFrom: read });
    assert.equal(withoutTimings(rest.epochs), withoutTimings(full.epochs));
    assert.equal(rest.earlyStop, full.earlyStop);
    assert.equal(weightsOf(resumed), weightsOf(whole));
    whole.dispose();
    resumed.dispose();
  },
);

F("resumed with a lower --lr, a plateau's saved rate is scaled by new/old (its cuts kept)", async () => {
  const settings = (lr: number) =>
    `sgd lr=${lr} momentum=0.9\n  batch 16\n  epochs 6\n  seed 2\n  schedule plateau patience=1 factor=0.5`;
  const prog = MLP(settings(0.5));
  const m = buildModel(prog, { backend: "wasm" });
  let at: TrainState | undefined;
  await m.fit(blobData(), { train: { epochs: 5 }, onEpochEnd: (_r, state) => void (at = state()) });
  m.dispose();
  const saved = at!.schedule!;
  assert.ok(saved.lr < 0.5, `the plateau cut the rate: ${saved.lr}`);
  const dir = tempDir("sched-lower");
  writeCheckpoint(dir, at!, { fingerprint: checkpointFingerprint(prog, prog.models[0]!.name) });

  const lower = MLP(settings(0.05));
  const read = readCheckpoint(dir, checkpointFingerprint(lower, lower.models[0]!.name));
  assert.ok(Math.abs(read.schedule!.lr - saved.lr / 10) < 1e-15, `${read.schedule!.lr} vs ${saved.lr / 10}`);
  assert.match(read.history.notes!.join("\n"), `schedule plateau's rate ${saved.lr} scaled to`);
  const resumed = buildModel(lower, { backend: "wasm" });
  const h = await resumed.fit(blobData(), { resumeFrom: read });
  resumed.dispose();
  const sixth = h.epochs.at(-1)!;
  assert.is(sixth.epoch, 6);
  assert.ok(sixth.lr! <= saved.lr / 10 + 1e-15, `epoch 6 trains at ${sixth.lr}, not the saved ${saved.lr}`);
});

F("a run that early stopping stopped, resumed, trains no more and keeps the same model", async () => {
  const settings =
    "adam lr=0.01\n  batch 16\n  epochs 8\n  seed 5\n  early_stop monitor=val_accuracy patience=1 min_delta=1";
  const whole = buildModel(MLP(settings), { backend: "wasm" });
  let last: TrainState | undefined;
  const h = await whole.fit(blobData(), { onEpochEnd: (_r, state) => void (last = state()) });
  assert.is(h.epochs.length, 2);
  assert.is(last!.earlyStop!.stopped, 2);
  const again = buildModel(MLP(settings), { backend: "wasm", seed: 9 });
  let epochs = 0;
  const h2 = await again.fit(blobData(), { resumeFrom: last!, onEpochEnd: () => void epochs++ });
  assert.is(epochs, 0, "no epoch trained");
  assert.is(h2.epochs.length, 2);
  assert.equal(weightsOf(again), weightsOf(whole));
  whole.dispose();
  again.dispose();
});

F("resumed with another epoch count, cosine says its rates changed course", async () => {
  const settings = "adam lr=0.01\n  batch 16\n  epochs 4\n  seed 1\n  schedule cosine";
  const whole = buildModel(MLP(settings), { backend: "wasm" });
  let at: TrainState | undefined;
  await whole.fit(blobData(), { onEpochEnd: (r, state) => void (r.epoch === 2 && (at = state())) });
  assert.is(at!.scheduleEpochs, 4);
  const longer = buildModel(MLP(settings), { backend: "wasm" });
  const h = await longer.fit(blobData(), { resumeFrom: at!, train: { epochs: 8 } });
  // cosine over 4 epochs of 15 steps at step 30: 0.005; over 8 epochs: 0.01 (0.5 (1 + cos(pi 30/120))) = 0.008536.
  assert.ok(
    h.notes?.includes(
      "schedule cosine spread over 4 epochs until epoch 2 and over 8 from epoch 3 on (resumed with another " +
        "epoch count): the rate of epoch 3 is 0.008536, where the 4-epoch schedule had 0.005",
    ),
    `${h.notes}`,
  );
  whole.dispose();
  longer.dispose();
});

F("one and two threads: the same rate every epoch, results equal up to float rounding", async () => {
  for (const schedule of ["cosine min=0.001 warmup=1", "plateau patience=1 factor=0.5", "onecycle max=0.3"]) {
    const settings = `sgd lr=0.1 momentum=0.9\n  batch 32\n  epochs 4\n  seed 4\n  schedule ${schedule}`;
    const one = await fit(settings, { threads: 1 });
    const two = await fit(settings, { threads: 2 });
    assert.is(two.history.threads, 2);
    assert.equal(
      two.history.epochs.map((e) => e.lr),
      one.history.epochs.map((e) => e.lr),
      `${schedule}: the same rates`,
    );
    for (const [name, w] of Object.entries(one.weights)) {
      const c = closeness(two.weights[name]!, w, 1e-5, 1e-5);
      assert.ok(c <= 1, `${schedule}: ${name} differs beyond float rounding (${c})`);
    }
  }
});

F("the autograd path takes the same rates as the compiled step", async () => {
  const settings =
    "adam lr=0.02\n  batch 16\n  epochs 3\n  seed 6\n  bnstats ema\n  schedule onecycle warmup=1";
  const compiled = await fit(settings);
  const autograd = await fit(settings, { gradients: "autograd" } as Parameters<CompiledModel["fit"]>[1]);
  assert.equal(
    autograd.history.epochs.map((e) => e.lr),
    compiled.history.epochs.map((e) => e.lr),
  );
  for (const [name, w] of Object.entries(compiled.weights)) {
    const c = closeness(autograd.weights[name]!, w, 1e-5, 1e-5);
    assert.ok(c <= 1, `${name} differs (${c})`);
  }
});

F(
  "the optimizer's update takes the step's rate (Adam's alpha, SGD's step, weight decay's w * wd * lr)",
  () => {
    const steps = (spec: Parameters<typeof createOptimizer>[0], rates: number[]) => {
      const w = tf.variable(tf.tensor1d([1, -2]), true, `sched-opt-${Math.random()}`);
      const opt = createOptimizer(spec, [{ name: "w", variable: w, trainable: true }]);
      const grads = [
        [0.5, -1],
        [0.1, 2],
      ];
      rates.forEach((lr, k) => tf.tidy(() => opt.apply({ w: tf.tensor1d(grads[k]!) }, lr)));
      const out = values(w);
      opt.dispose();
      w.dispose();
      return out;
    };
    // SGD with weight decay 0.1 (Keras: w -= w * wd * lr, then w -= lr * g), at rates 0.5 then 0.25.
    const sgd = [1, -2].map((w0, i) => {
      let w = w0;
      [0.5, 0.25].forEach((lr, k) => {
        w = w - w * 0.1 * lr;
        const g = [
          [0.5, -1],
          [0.1, 2],
        ][k]![i]!;
        w = w - lr * g;
      });
      return w;
    });
    const got = steps({ type: "sgd", lr: 9, momentum: 0, nesterov: false, weightDecay: 0.1 }, [0.5, 0.25]);
    assert.ok(closeness(got, sgd, 1e-6, 1e-7) <= 1, `${got} vs ${sgd}`);
    // Adam (the SIMD kernel on wasm): alpha_t = lr_t sqrt(1 - b2^t) / (1 - b1^t).
    const [b1, b2, eps] = [0.9, 0.999, 1e-7];
    const adam = [1, -2].map((w0, i) => {
      let [w, m, v] = [w0, 0, 0];
      [0.01, 0.003].forEach((lr, k) => {
        const g = [
          [0.5, -1],
          [0.1, 2],
        ][k]![i]!;
        m += (g - m) * (1 - b1);
        v += (g * g - v) * (1 - b2);
        w -= (((lr * Math.sqrt(1 - b2 ** (k + 1))) / (1 - b1 ** (k + 1))) * m) / (Math.sqrt(v) + eps);
      });
      return w;
    });
    const a = steps({ type: "adam", lr: 9, beta1: b1, beta2: b2, epsilon: eps }, [0.01, 0.003]);
    assert.ok(closeness(a, adam, 1e-6, 1e-7) <= 1, `${a} vs ${adam}`);
  },
);

F.run();
