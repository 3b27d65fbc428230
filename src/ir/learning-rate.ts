// Schedules and early stopping as numbers, shared by the checker and training: the learning rate of every step
// (a `schedule` in train) and when to stop (`early_stop`), with Keras 3's formulas and rules. Pure: no tfjs, no
// network. The training loop (fit.ts) asks for the rate of each
// step, hands it to the optimizer (and, with threads, to every thread through the step's shared header), and
// tells these objects each epoch's validation metrics; their state goes into the checkpoint, so a resumed run
// computes the same rates and stops at the same epoch as an uninterrupted one.
//
// Steps are counted from 0 over the whole run (Keras' `optimizer.iterations` before the update), epochs from 1.
// Sources:
//   keras/src/optimizers/schedules/learning_rate_schedule.py  ExponentialDecay, CosineDecay (with warm-up)
//   keras/src/callbacks/reduce_lr_on_plateau.py               ReduceLROnPlateau
//   keras/src/callbacks/early_stopping.py, monitor_callback.py EarlyStopping, the improvement test
//   torch/optim/lr_scheduler.py                                OneCycleLR (Keras has none; Smith & Topin 2017)
import type { EarlyStop, Schedule } from "./schema.ts";

/** The shape of the run a schedule spreads over. */
export interface RunShape {
  epochs: number;
  /** Optimizer steps per epoch (the same every epoch: src/data/batches.ts). */
  stepsPerEpoch: number;
}

/** ReduceLROnPlateau's state between epochs (Keras' `best`, `wait`, and the rate it set). */
export interface PlateauState {
  lr: number;
  best: number | null;
  wait: number;
}

/** Keras ReduceLROnPlateau's fixed settings nnc does not expose: min_delta and cooldown. */
export const PLATEAU_MIN_DELTA = 1e-4;

/** OneCycleLR's defaults (PyTorch): the rise takes 30% of the steps, from max/25, down to max/25/1e4. */
export const ONECYCLE = { pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4 } as const;

/** PyTorch's _annealing_cos: from `start` (pct 0) to `end` (pct 1) along half a cosine. */
const annealCos = (start: number, end: number, pct: number) =>
  end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

/**
 * The rate of 0-based step `s` of a run of `total` steps, for a schedule without warm-up or plateau (the part of
 * a schedule that depends only on the step): `epochIndex` is s's 0-based epoch.
 */
function scheduled(schedule: Schedule, lr: number, s: number, epochIndex: number, total: number): number {
  switch (schedule.type) {
    case "constant":
    case "plateau":
      return lr;
    case "step":
      // ExponentialDecay(lr, decay_steps=every * steps_per_epoch, decay_rate=factor, staircase=True):
      // lr * factor ^ floor(step / decay_steps), i.e. factor ^ floor(epoch / every).
      return lr * Math.pow(schedule.factor, Math.floor(epochIndex / schedule.every));
    case "exponential":
      // ExponentialDecay(lr, decay_steps=steps_per_epoch, decay_rate=rate, staircase=True): lr * rate ^ epoch.
      return lr * Math.pow(schedule.rate, epochIndex);
    case "cosine": {
      // CosineDecay(lr, decay_steps=total, alpha=min/lr): step = min(step, decay_steps);
      // lr * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha).
      const alpha = schedule.min / lr;
      const step = Math.min(s, total);
      return lr * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * step) / total)) + alpha);
    }
    case "onecycle": {
      // OneCycleLR(max_lr, total_steps=total, pct_start=0.3, anneal_strategy="cos", div_factor=25,
      // final_div_factor=1e4, three_phase=False): phase 1 ends at step pct_start * total - 1 (initial -> max),
      // phase 2 at total - 1 (max -> min); pct = (step - start) / (end - start) within the phase.
      const max = schedule.max ?? lr;
      const initial = max / ONECYCLE.divFactor;
      const min = initial / ONECYCLE.finalDivFactor;
      const end1 = ONECYCLE.pctStart * total - 1;
      const end2 = total - 1;
      // A phase of no length (a run of 1-3 steps) is at its end at once, where PyTorch would divide by 0.
      // Past the last step (PyTorch refuses it) the rate stays at min.
      const at = Math.min(s, end2);
      const pct = (from: number, to: number) => (to > from ? (at - from) / (to - from) : 1);
      if (at <= end1) return annealCos(initial, max, pct(0, end1));
      return annealCos(max, min, pct(Math.max(end1, 0), end2));
    }
  }
}

/**
 * The learning rate of every step of a run: `at(epoch, step)`, and `endEpoch` with the epoch's validation loss
 * (plateau). `warmup=N` (any schedule): over the first N epochs' steps the rate rises linearly from 0 as Keras'
 * CosineDecay warm-up does (warmup_target = the schedule's first rate, initial_learning_rate = 0:
 * target * step / warmup_steps, so step 0 has rate 0); the schedule then runs over the steps after it, counted
 * from 0 (CosineDecay's `step - warmup_steps` over decay_steps = the rest of the run; step and exponential count
 * epochs after the warm-up; plateau watches epochs after it).
 */
export class LearningRate {
  readonly warmupSteps: number;
  private readonly total: number;
  private plateau: PlateauState | undefined;

  constructor(
    readonly schedule: Schedule | undefined,
    /** The optimizer's lr: the schedule's starting rate. */
    readonly lr: number,
    readonly run: RunShape,
    restored?: PlateauState,
  ) {
    const warmup = Math.min(schedule?.warmup ?? 0, run.epochs);
    this.warmupSteps = warmup * run.stepsPerEpoch;
    this.total = run.epochs * run.stepsPerEpoch - this.warmupSteps;
    if (schedule?.type === "plateau") this.plateau = restored ? { ...restored } : { lr, best: null, wait: 0 };
  }

  /** The rate of 1-based `step` of 1-based `epoch`. */
  at(epoch: number, step: number): number {
    const s = (epoch - 1) * this.run.stepsPerEpoch + (step - 1);
    return this.atStep(s);
  }

  /**
   * The effective rate of 1-based `epoch` (history.json's `lr`): the mean of its steps' rates, which is the
   * rate itself for a schedule constant over the epoch (constant, step, exponential, plateau).
   */
  epochMean(epoch: number): number {
    let sum = 0;
    const first = this.at(epoch, 1);
    let varies = false;
    for (let step = 1; step <= this.run.stepsPerEpoch; step++) {
      const rate = this.at(epoch, step);
      sum += rate;
      if (rate !== first) varies = true;
    }
    return varies ? sum / this.run.stepsPerEpoch : first;
  }

  /** The rate of 0-based step `s` of the run. */
  atStep(s: number): number {
    const schedule = this.schedule;
    if (!schedule) return this.lr;
    const base = this.plateau?.lr ?? this.lr;
    if (s < this.warmupSteps) {
      const target = scheduled(schedule, base, 0, 0, Math.max(this.total, 1));
      return (target * s) / this.warmupSteps;
    }
    const after = s - this.warmupSteps;
    const epochIndex = Math.floor(after / this.run.stepsPerEpoch);
    return scheduled(schedule, base, after, epochIndex, Math.max(this.total, 1));
  }

  /** The epochs of the warm-up (plateau does not watch them). */
  get warmupEpochs(): number {
    return this.run.stepsPerEpoch > 0 ? this.warmupSteps / this.run.stepsPerEpoch : 0;
  }

  /**
   * After `epoch` (1-based) with its validation loss: ReduceLROnPlateau's on_epoch_end (mode min, cooldown 0):
   * an improvement is val_loss < best - min_delta (the first value always is); otherwise wait += 1, and at
   * wait >= patience the rate becomes max(lr * factor, min) if lr > min (Keras compares with float32(min_lr)),
   * and wait = 0. Returns the new rate when it changed.
   */
  endEpoch(epoch: number, valLoss: number): number | undefined {
    const p = this.plateau;
    const schedule = this.schedule;
    if (!p || schedule?.type !== "plateau" || epoch <= this.warmupEpochs) return undefined;
    if (p.best === null || valLoss < p.best - PLATEAU_MIN_DELTA) {
      p.best = valLoss;
      p.wait = 0;
      return undefined;
    }
    p.wait++;
    if (p.wait < schedule.patience) return undefined;
    if (!(p.lr > Math.fround(schedule.min))) return undefined;
    p.lr = Math.max(p.lr * schedule.factor, schedule.min);
    p.wait = 0;
    return p.lr;
  }

  /** What a checkpoint keeps (plateau only: the other schedules are functions of the step). */
  state(): PlateauState | undefined {
    return this.plateau ? { ...this.plateau } : undefined;
  }
}

/** Every epoch's rate at its first step, for a schedule without plateau (checks and docs). */
export function epochRates(schedule: Schedule | undefined, lr: number, run: RunShape): number[] {
  const rates = new LearningRate(schedule, lr, run);
  return Array.from({ length: run.epochs }, (_, e) => rates.at(e + 1, 1));
}

/** EarlyStopping's state between epochs. `stopped`: the epoch after which it stopped the run. */
export interface EarlyStopState {
  best: number | null;
  bestEpoch: number;
  wait: number;
  stopped?: number;
}

/**
 * Keras EarlyStopping's on_epoch_end (start_from_epoch 0, no baseline): wait += 1; the first epoch always
 * improves (no best yet); an improvement (val_loss: value < best - min_delta; val_accuracy: value > best + min_delta)
 * makes it the best and wait = 0; otherwise training stops once wait >= patience. A NaN is never an improvement.
 */
export class EarlyStopping {
  private s: EarlyStopState;

  constructor(
    readonly spec: EarlyStop,
    restored?: EarlyStopState,
  ) {
    this.s = restored ? { ...restored } : { best: null, bestEpoch: 0, wait: 0 };
  }

  /** The monitored value of an epoch's record. */
  value(record: { valLoss: number; valAccuracy: number }): number {
    return this.spec.monitor === "val_loss" ? record.valLoss : record.valAccuracy;
  }

  private improves(value: number): boolean {
    const best = this.s.best;
    if (best === null) return true;
    return this.spec.monitor === "val_loss"
      ? value < best - this.spec.minDelta
      : value > best + this.spec.minDelta;
  }

  /** After `epoch` (1-based): whether it is the new best (keep its weights), and whether to stop now. */
  endEpoch(epoch: number, value: number): { best: boolean; stop: boolean } {
    const s = this.s;
    s.wait++;
    if (this.improves(value)) {
      s.best = value;
      s.bestEpoch = epoch;
      s.wait = 0;
      return { best: true, stop: false };
    }
    // Keras: `epoch > 0` (0-based), so never after the first epoch.
    const stop = s.wait >= this.spec.patience && epoch > 1;
    if (stop) s.stopped = epoch;
    return { best: false, stop };
  }

  get bestEpoch(): number {
    return this.s.bestEpoch;
  }

  get stopped(): number | undefined {
    return this.s.stopped;
  }

  state(): EarlyStopState {
    return { ...this.s };
  }
}
