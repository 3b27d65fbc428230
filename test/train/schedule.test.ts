// Learning-rate schedules and early stopping (src/ir/learning-rate.ts) against the formulas of their sources,
// written out here independently of the implementation:
//   keras/src/optimizers/schedules/learning_rate_schedule.py  ExponentialDecay, CosineDecay (warm-up)
//   keras/src/callbacks/reduce_lr_on_plateau.py               ReduceLROnPlateau
//   keras/src/callbacks/early_stopping.py, monitor_callback.py EarlyStopping
//   torch/optim/lr_scheduler.py                                OneCycleLR
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { EarlyStop, Schedule } from "../../src/ir/schema.ts";
import { EarlyStopping, epochRates, LearningRate } from "../../src/ir/learning-rate.ts";

const run = { epochs: 6, stepsPerEpoch: 5 };
const T = run.epochs * run.stepsPerEpoch;
const lr = 0.1;

/** Every step's rate, 0-based steps of the run. */
const rates = (schedule: Schedule | undefined, shape = run, base = lr) => {
  const r = new LearningRate(schedule, base, shape);
  return Array.from({ length: shape.epochs * shape.stepsPerEpoch }, (_, s) => r.atStep(s));
};

function close(actual: number[], expected: number[], what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= 1e-15 + 1e-12 * Math.abs(e), `${what}: step ${i}: ${a} vs ${e}`);
  });
}

const S = suite("learning-rate schedules (Keras formulas)");

S("no schedule and constant: the optimizer's lr at every step", () => {
  close(rates(undefined), Array(T).fill(lr), "none");
  close(rates({ type: "constant" }), Array(T).fill(lr), "constant");
});

S(
  "step: ExponentialDecay(staircase=True, decay_steps=every*steps_per_epoch): lr * factor^floor(step/decay_steps)",
  () => {
    const decaySteps = 2 * run.stepsPerEpoch;
    const expected = Array.from({ length: T }, (_, s) => lr * Math.pow(0.5, Math.floor(s / decaySteps)));
    close(rates({ type: "step", every: 2, factor: 0.5 }), expected, "step");
    // By hand: epochs 1-2 at 0.1, 3-4 at 0.05, 5-6 at 0.025.
    assert.equal(
      epochRates({ type: "step", every: 2, factor: 0.5 }, lr, run).map((x) => +x.toPrecision(12)),
      [0.1, 0.1, 0.05, 0.05, 0.025, 0.025],
    );
  },
);

S(
  "exponential: ExponentialDecay(staircase=True, decay_steps=steps_per_epoch): lr * rate^floor(step/steps)",
  () => {
    const expected = Array.from(
      { length: T },
      (_, s) => lr * Math.pow(0.9, Math.floor(s / run.stepsPerEpoch)),
    );
    close(rates({ type: "exponential", rate: 0.9 }), expected, "exponential");
  },
);

S("cosine: CosineDecay(lr, decay_steps=total, alpha=min/lr), per step", () => {
  // decayed = (1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha; lr * decayed
  const alpha = 0.01 / lr;
  const keras = (s: number, D: number) =>
    lr * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * Math.min(s, D)) / D)) + alpha);
  close(
    rates({ type: "cosine", min: 0.01 }),
    Array.from({ length: T }, (_, s) => keras(s, T)),
    "cosine",
  );
  // By hand, CosineDecay(0.1, decay_steps=10): step 5 is 0.05, step 2 is 0.05 (1 + cos(0.2 pi)) = 0.0904508...
  const ten = rates({ type: "cosine", min: 0 }, { epochs: 2, stepsPerEpoch: 5 });
  assert.ok(Math.abs(ten[5]! - 0.05) < 1e-15);
  assert.ok(Math.abs(ten[2]! - 0.09045084971874737) < 1e-15);
  assert.is(ten[0], 0.1);
});

S("warm-up: CosineDecay(0, decay_steps=total-W, warmup_target=lr, warmup_steps=W)", () => {
  // step < W: (warmup_target - initial) * step / W + initial, initial 0; then the decay of step - W.
  const W = 2 * run.stepsPerEpoch;
  const D = T - W;
  const keras = (s: number) =>
    s < W ? (lr * s) / W : lr * (0.5 * (1 + Math.cos((Math.PI * Math.min(s - W, D)) / D)));
  close(
    rates({ type: "cosine", min: 0, warmup: 2 }),
    Array.from({ length: T }, (_, s) => keras(s)),
    "cosine warmup",
  );
  // On a step schedule: linear to lr, then the staircase counts epochs after the warm-up.
  const step = rates({ type: "step", every: 1, factor: 0.5, warmup: 1 });
  close(step.slice(0, 5), [0, 0.02, 0.04, 0.06, 0.08], "step warm-up");
  close(
    step.slice(5),
    [
      ...Array(5).fill(0.1),
      ...Array(5).fill(0.05),
      ...Array(5).fill(0.025),
      ...Array(5).fill(0.0125),
      ...Array(5).fill(0.00625),
    ],
    "step after warm-up",
  );
});

S("onecycle: OneCycleLR(max, total_steps, pct_start=0.3, cos, div_factor=25, final_div_factor=1e4)", () => {
  // initial = max/25, min = initial/1e4; phase 1 to step 0.3 T - 1 (initial -> max), phase 2 to T - 1
  // (max -> min); _annealing_cos(start, end, pct) = end + (start - end)/2 (cos(pi pct) + 1).
  const max = 0.5;
  const initial = max / 25;
  const min = initial / 1e4;
  const cos = (a: number, b: number, pct: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1);
  const end1 = 0.3 * T - 1;
  const torch = (s: number) =>
    s <= end1 ? cos(initial, max, s / end1) : cos(max, min, (s - end1) / (T - 1 - end1));
  const got = rates({ type: "onecycle", max });
  close(
    got,
    Array.from({ length: T }, (_, s) => torch(s)),
    "onecycle",
  );
  assert.ok(Math.abs(got[0]! - initial) < 1e-15, "the first step at max / 25");
  assert.ok(Math.abs(got[end1]! - max) < 1e-15, "the peak at 30% of the run");
  assert.ok(Math.abs(got[T - 1]! - min) < 1e-18, "the last step at max / 25 / 1e4");
  // Past the run (a longer resumed run asks) the rate stays at min.
  const r = new LearningRate({ type: "onecycle", max }, lr, run);
  assert.ok(Math.abs(r.atStep(T + 7) - min) < 1e-18);
  // max defaults to the optimizer's lr.
  assert.ok(Math.abs(rates({ type: "onecycle" })[end1]! - lr) < 1e-15);
});

S("plateau: ReduceLROnPlateau(val_loss, factor, patience, min_lr, min_delta=1e-4, cooldown=0)", () => {
  const r = new LearningRate({ type: "plateau", patience: 2, factor: 0.5, min: 0.02 }, lr, run);
  // Keras, epoch by epoch: improvement iff current < best - 1e-4; else wait += 1, and at wait >= patience
  // lr = max(lr * factor, min_lr) if lr > min_lr, wait = 0.
  const losses = [1.0, 0.9, 0.89995, 0.95, 0.8, 0.85, 0.86, 0.9, 0.9, 0.9];
  const seen: number[] = [];
  losses.forEach((loss, i) => {
    seen.push(r.at(i + 1, 1));
    r.endEpoch(i + 1, loss);
  });
  // 1.0 best, 0.9 best, 0.89995 not (by less than 1e-4): wait 1, 0.95 wait 2 -> 0.05; 0.8 best; 0.85 wait 1,
  // 0.86 wait 2 -> 0.025; 0.9 wait 1, 0.9 wait 2 -> max(0.0125, 0.02) = 0.02 from epoch 10; 0.9 wait 1.
  close(seen, [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02], "plateau");
  assert.is(r.at(11, 1), 0.02);
  assert.equal(r.state(), { lr: 0.02, best: 0.8, wait: 1 });
  // The state resumes: a LearningRate made from it continues the same way.
  const again = new LearningRate(
    { type: "plateau", patience: 2, factor: 0.5, min: 0.02 },
    lr,
    run,
    r.state(),
  );
  assert.is(again.at(12, 3), 0.02);
});

S("plateau with warm-up does not watch the warm-up epochs", () => {
  const r = new LearningRate({ type: "plateau", patience: 1, factor: 0.5, min: 0, warmup: 2 }, lr, run);
  r.endEpoch(1, 1);
  r.endEpoch(2, 2);
  assert.is(r.at(3, 1), lr, "epochs 1-2 are warm-up");
  r.endEpoch(3, 1);
  r.endEpoch(4, 1);
  assert.is(r.at(5, 1), 0.05);
});

const E = suite("early stopping (Keras EarlyStopping)");
const spec = (o: Partial<EarlyStop>): EarlyStop => ({
  monitor: "val_loss",
  patience: 0,
  minDelta: 0,
  restore: true,
  ...o,
});
/** The epochs (1-based) Keras would train and its best epoch, for a metric series. */
function stopOn(s: EarlyStop, values: number[]) {
  const e = new EarlyStopping(s);
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = e.endEpoch(i + 1, values[i]!);
    if (v.best) best.push(i + 1);
    if (v.stop) return { trained: i + 1, best: e.bestEpoch, bests: best };
  }
  return { trained: values.length, best: e.bestEpoch, bests: best };
}

E("patience counts epochs since the best; min_delta decides what improves", () => {
  // patience 0 (Keras' default): the first epoch that does not improve stops.
  assert.equal(stopOn(spec({}), [1, 0.8, 0.85, 0.7]), { trained: 3, best: 2, bests: [1, 2] });
  // patience 2: after the best at epoch 2, epochs 3 and 4 do not improve: stop after 4.
  assert.equal(stopOn(spec({ patience: 2 }), [1, 0.8, 0.85, 0.9, 0.5]), {
    trained: 4,
    best: 2,
    bests: [1, 2],
  });
  // An improvement within patience resets the count.
  assert.equal(stopOn(spec({ patience: 2 }), [1, 0.8, 0.85, 0.7, 0.75, 0.71, 0.9]).trained, 6);
  // min_delta: 0.8 -> 0.79 is not an improvement by 0.05.
  assert.equal(stopOn(spec({ patience: 1, minDelta: 0.05 }), [1, 0.8, 0.79, 0.7]), {
    trained: 3,
    best: 2,
    bests: [1, 2],
  });
  // val_accuracy improves upwards.
  assert.equal(stopOn(spec({ monitor: "val_accuracy", patience: 1 }), [0.5, 0.6, 0.6, 0.7]).trained, 3);
  // Never after the first epoch (Keras: epoch > 0), whatever the patience.
  assert.equal(stopOn(spec({}), [1]).trained, 1);
  // NaN never improves.
  assert.equal(stopOn(spec({ patience: 1 }), [1, NaN, 0.5]).trained, 2);
});

E("its state resumes", () => {
  const a = new EarlyStopping(spec({ patience: 2 }));
  a.endEpoch(1, 1);
  a.endEpoch(2, 0.9);
  a.endEpoch(3, 0.95);
  const b = new EarlyStopping(spec({ patience: 2 }), a.state());
  assert.equal(b.endEpoch(4, 0.96), { best: false, stop: true });
  assert.is(b.bestEpoch, 2);
  assert.is(b.stopped, 4);
});

S.run();
E.run();
