// The runtime contract: what lowering a checked IR model gives (a CompiledModel), what training reports
// (History, per-epoch and per-batch events) and what a checkpoint holds (TrainState). The lowering/training
// code implements these; saving, checkpoints, the CLI and experiments only use them.
import type * as tf from "@tensorflow/tfjs-core";
import type { Model, Program, Train, WatchSeries } from "../ir/schema.ts";
import type { Dataset, Split } from "../data/types.ts";
import type { EarlyStopState, PlateauState } from "../ir/learning-rate.ts";
import type { Parallelism } from "../train/parallel/plan.ts";

export type BackendName = "tensorflow" | "wasm" | "cpu";
export type BackendChoice = BackendName | "auto";

/** A weight as plain data: what checkpoints and save files hold, and what setWeights accepts. */
export interface WeightData {
  shape: number[];
  data: Float32Array;
}

export interface EpochRecord {
  epoch: number; // 1-based
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** --eval-train: the training set measured in inference mode (population statistics), beside `loss`. */
  trainEvalLoss?: number;
  trainEvalAccuracy?: number;
  seconds: number;
  samplesPerSecond: number;
  /**
   * The epoch's effective learning rate: the mean of its steps' rates (a `schedule` changes it from epoch to
   * epoch, and cosine, onecycle and warm-up from step to step). Absent in histories written before it was
   * recorded.
   */
  lr?: number;
}

/** What early stopping did (train `early_stop`): the epoch it stopped after, if it did, and the best epoch. */
export interface EarlyStopRecord {
  monitor: "val_loss" | "val_accuracy";
  bestEpoch: number;
  /** The epoch after which it stopped the run; absent when the run went to its last epoch. */
  stoppedAfter?: number;
  /** Whether the model is the best epoch's weights (restore=true) rather than the last epoch's. */
  restored: boolean;
}

export interface History {
  epochs: EpochRecord[];
  /** What training did that the settings do not say (e.g. a final batch of one merged), each said once. */
  notes?: string[];
  /** Threads the last fit trained on (data-parallel when more than one; results equal up to float rounding). */
  threads?: number;
  /**
   * The one training thread's SIMD kernels were split over a second core (src/runtime/kernel-helper.ts): results
   * bit for bit those of one thread.
   */
  splitKernels?: boolean;
  earlyStop?: EarlyStopRecord;
  /** What each `watch` of the train settings recorded (issue 19), in their order. */
  watch?: WatchSeries[];
}

export interface BatchEvent {
  epoch: number;
  step: number; // 1-based within the epoch
  steps: number;
  samples: number; // samples seen so far in this epoch
  loss: number; // running mean over the epoch so far
  accuracy: number;
}

/** Everything needed to continue a run exactly where it stopped (after a finished epoch). */
export interface TrainState {
  epochsDone: number;
  history: History;
  weights: Record<string, WeightData>;
  /** Optimizer slots by name (e.g. "dense/kernel/m"), plus its step count. */
  optimizer: { step: number; slots: Record<string, WeightData> };
  /**
   * What computed the epochs so far: a resumed run continues bit for bit only on the same backend and thread
   * count (the wasm update is float32, the JS one float64; threads sum in another order).
   */
  computedOn?: { backend: BackendName; threads: number };
  /** A plateau schedule's state (the other schedules are functions of the step). */
  schedule?: PlateauState;
  /**
   * The epochs the run's schedule spread over (cosine and onecycle depend on them): a run resumed with other
   * epochs says its rates changed course.
   */
  scheduleEpochs?: number;
  /** Early stopping's state, and with restore=true the best epoch's weights (batchnorm statistics included). */
  earlyStop?: EarlyStopState & { weights?: Record<string, WeightData> };
}

export interface FitOptions {
  /** Overrides of the program's train settings (CLI flags, experiment cells). */
  train?: Partial<Train>;
  evalTrain?: boolean;
  onBatchEnd?: (e: BatchEvent) => void;
  /** After each `watch` record: the series so far (live arrays: copy what must outlive the call). */
  onWatch?: (series: readonly WatchSeries[]) => void;
  onEpochEnd?: (record: EpochRecord, state: () => TrainState) => void | Promise<void>;
  /** Continue from a checkpoint instead of starting fresh. */
  resumeFrom?: TrainState;
  /**
   * Training threads: 1, N (data-parallel: each thread its share of every batch, its own tfjs backend), or
   * "auto" (the default: two where the machine has two cores and the per-step work pays for it).
   */
  threads?: number | "auto";
  /**
   * How two threads are used: "data" (as above) or "kernels" (one training thread whose large SIMD kernels are
   * split with a helper thread on the same heap: results bit for bit those of one thread; wasm only). Absent:
   * "auto" picks, a number of threads means data.
   */
  parallel?: Parallelism;
  /** Called once training is about to start, with the threads it runs on. */
  onStart?: (info: { threads: number; splitKernels: boolean }) => void;
  /** Seconds spent in each phase, added to as training goes (nnc train --timings). */
  timings?: FitTimings;
}

/** Wall time of fit's phases in seconds: the steps, batch-norm population statistics, evaluation. */
export interface FitTimings {
  training: number;
  /** Of `training`: the extra forward passes of `watch` (issue 19), timed apart so its cost can be stated. */
  watch: number;
  statistics: number;
  evaluation: number;
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  samples: number;
}

export interface CompiledModel {
  readonly program: Program;
  readonly model: Model;
  readonly backend: BackendName;
  /** Inference by default: population statistics in batch norm, no dropout. Softmax outputs are probabilities. */
  predict(x: tf.Tensor, options?: { training?: boolean }): tf.Tensor;
  fit(data: Dataset, options?: FitOptions): Promise<History>;
  evaluate(split: Split): Evaluation;
  /** Keras names: "dense/kernel", "dense/bias", "batch_normalization/gamma", ".../moving_mean", ... */
  getWeights(): Record<string, tf.Tensor>;
  setWeights(weights: Record<string, tf.Tensor | WeightData | number[] | Float32Array>): void;
  dispose(): void;
}
