// Training: a lowered network + a data set + train settings -> a History, via a loop of our own (not model.fit):
// seeded shuffling, one batch tensor per step from a reused buffer, Keras optimizers with named slots, batchnorm
// statistics, resume; gradients by the hand-written backward where it covers the network, else autograd.
import * as tf from "@tensorflow/tfjs-core";
import { createAugmenter, type Augmenter } from "../data/augment.ts";
import { trainingBatches, type Batch } from "../data/batches.ts";
import { compatibleShapes } from "../data/shapes.ts";
import type { Dataset } from "../data/types.ts";
import { fail } from "../diagnostics/index.ts";
import type { Train } from "../ir/schema.ts";
import { withTrainOverrides } from "../ir/train-overrides.ts";
import { lowerLoss, modelLoss, type LoweredLoss } from "../lower/loss.ts";
import type { Network } from "../lower/network.ts";
import type { BackendName, EpochRecord, FitOptions, History, TrainState } from "../runtime/types.ts";
import { formatShape, sizeOf } from "../util/shape.ts";
import { evaluateSplit, sampleSizeOf } from "./evaluate.ts";
import { classWeightTable } from "./class-weights.ts";
import { createOptimizer } from "./optimizers.ts";
import { autogradGradients, dropoutStreams, trainStep, type GradientFn, type StepInput } from "./step.ts";
import type { Optimizer } from "./optimizers.ts";
import { planThreads } from "./parallel/plan.ts";
import { kernelSplitAvailable, kernelSplitProblem, setKernelThreads } from "../runtime/simd-ops.ts";
import { kernelSplitTotal } from "../runtime/kernel-helper.ts";
import { startDataParallel, type DataParallel } from "./parallel/trainer.ts";
import { manualGradients } from "./manual-backward.ts";
import { recomputePopulationStatistics, sampleSplit } from "./population-stats.ts";
import { setWeightData, weightData } from "./weights.ts";
import { WatchRecorder } from "./watch.ts";
import { requireTrainingMemory } from "../ir/training-memory.ts";
import { EarlyStopping, LearningRate } from "../ir/learning-rate.ts";
import type { WeightData } from "../runtime/types.ts";

/**
 * Why a loss stops being finite, and what is left: fit itself keeps no copy of earlier weights (the network's are
 * the diverged ones now), so it says only which epoch finished last; the caller says what it saved (the CLI's
 * checkpoints).
 */
function nonFiniteHint(settings: Train, epoch: number): string {
  const opt = settings.optimizer;
  return (
    `the learning rate ${opt.lr} is probably too high for ${opt.type} (try ${+(opt.lr / 10).toPrecision(3)}); ` +
    "inputs that are not scaled (e.g. raw 0-255 pixels) or a batch size too small for batchnorm can also diverge; " +
    (epoch > 1 ? `epoch ${epoch - 1} was the last to finish` : "no epoch had finished")
  );
}

/**
 * The hand-written backward where it covers every layer of the network (it is tested equal to autograd), else
 * autograd. `"autograd"` forces the reference path. `compiled` says which: data-parallel threads run only the
 * compiled step (its batchnorm exchanges are written into it).
 */
export function chooseGradients(
  net: Network,
  loss: LoweredLoss,
  choice: "auto" | "autograd" | undefined,
): { gradients: GradientFn; compiled: boolean } {
  const manual = choice === "autograd" ? undefined : manualGradients(net, loss);
  return manual
    ? { gradients: manual, compiled: true }
    : { gradients: autogradGradients(net, loss), compiled: false };
}

/** Trains `net` in place. Throws NncError E601 on a non-finite loss, E507/E620 before training on bad input. */
export async function fitNetwork(
  net: Network,
  settingsBase: Train,
  data: Dataset,
  options: FitOptions & { gradients?: "auto" | "autograd" } = {},
): Promise<History> {
  const settings = withTrainOverrides(settingsBase, options.train);
  // Evaluation's loss, and training's: Keras weighs by class only fit's training data.
  const loss = lowerLoss(net, modelLoss(net.model, settings.loss));
  const classWeights = classWeightTable(
    settings.classWeight,
    data.train.y,
    data.train.count,
    data.numClasses,
    data.source,
  );
  const trainLoss = classWeights ? lowerLoss(net, modelLoss(net.model, settings.loss), classWeights) : loss;
  const sampleSize = sampleSizeOf(net);
  if (!compatibleShapes(data.sampleShape, net.inputShape)) {
    fail("E507", {
      source: data.source,
      dataShape: formatShape(data.sampleShape),
      inputShape: formatShape(net.inputShape),
    });
  }
  checkBatchNormBatches(net, settings.batch, data.train.count);
  const augmenter = augmenterFor(net, settings);
  // Before the optimizer allocates its slots (the CLI checks before the weights too): E636/E637.
  requireTrainingMemory(net.model, settings, tf.getBackend() as BackendName, { weightsHeld: true });
  requireValidation(settings, data);

  const optimizer = createOptimizer(settings.optimizer, net.trainable);
  const { gradients, compiled } = chooseGradients(net, trainLoss, options.gradients);
  let parallel: DataParallel | undefined;
  const history: History = { epochs: [] };
  const splitsBefore = kernelSplitTotal();
  try {
    let start = 1;
    if (options.resumeFrom) {
      const s = options.resumeFrom;
      setWeightData(net, s.weights);
      optimizer.restore(s.optimizer.step, s.optimizer.slots);
      history.epochs.push(...s.history.epochs.map((e) => ({ ...e })));
      for (const note of s.history.notes ?? []) addNote(history, note);
      start = s.epochsDone + 1;
    }
    const exact = settings.bnstats.mode === "exact" && net.batchNorms.length > 0;
    parallel = await startThreads(
      net,
      settings,
      data.train.count,
      start,
      options,
      optimizer,
      compiled ? gradients : undefined,
      history,
      classWeights,
    );
    history.threads = parallel?.threads ?? 1;
    const before = options.resumeFrom?.computedOn;
    const now = { backend: tf.getBackend() as BackendName, threads: history.threads };
    if (before && (before.backend !== now.backend || before.threads !== now.threads)) {
      addNote(
        history,
        `resumed on ${computedOn(now)} after ${computedOn(before)}: the result equals an uninterrupted run up to ` +
          "float rounding, not bit for bit",
      );
    }
    options.onStart?.({ threads: history.threads, splitKernels: history.splitKernels === true });
    const statsSplit = exact
      ? sampleSplit(data.train, settings.bnstats.sample, settings.seed, sampleSize)
      : undefined;

    const singleStep = (batch: Batch, dropoutRng: StepInput["dropoutRng"], lr: number) => {
      const x = tf.tensor(batch.x, [batch.size, ...net.inputShape], "float32");
      const y = tf.tensor1d(batch.y, "int32");
      try {
        return trainStep(gradients, optimizer, { x, y, dropoutRng }, lr);
      } finally {
        x.dispose();
        y.dispose();
      }
    };
    // The learning rate of every step, and early stopping (src/ir/learning-rate.ts), from the checkpoint's state
    // when resumed. Steps per epoch are the same every epoch: the first epoch's batches say how many.
    const stepsPerEpoch = trainingBatches(data.train, {
      batchSize: settings.batch,
      sampleSize,
      seed: settings.seed,
      epoch: 1,
      shuffle: false,
      mergeSingleton: net.batchNorms.length > 0,
    }).steps;
    const resumed = options.resumeFrom;
    const rates = new LearningRate(
      settings.schedule,
      settings.optimizer.lr,
      { epochs: settings.epochs, stepsPerEpoch },
      resumed?.schedule,
    );
    const stopping = settings.earlyStop
      ? new EarlyStopping(settings.earlyStop, resumed?.earlyStop)
      : undefined;
    const spanned = resumed?.scheduleEpochs;
    const spread = settings.schedule?.type === "cosine" || settings.schedule?.type === "onecycle";
    if (spread && spanned !== undefined && spanned !== settings.epochs && start <= settings.epochs) {
      const then = new LearningRate(settings.schedule, settings.optimizer.lr, {
        epochs: spanned,
        stepsPerEpoch,
      });
      addNote(
        history,
        `schedule ${settings.schedule!.type} spread over ${spanned} epochs until epoch ${start - 1} and over ` +
          `${settings.epochs} from epoch ${start} on (resumed with another epoch count): the rate of epoch ` +
          `${start} is ${+rates.at(start, 1).toPrecision(4)}, where the ${spanned}-epoch schedule had ` +
          `${+then.at(start, 1).toPrecision(4)}`,
      );
    }
    const watcher = settings.watch?.length
      ? new WatchRecorder(net, settings.watch, resumed?.history.watch)
      : undefined;
    if (watcher) history.watch = watcher.series;
    let bestWeights: Record<string, WeightData> | undefined = resumed?.earlyStop?.weights;
    const stoppedBefore = stopping?.stopped;
    if (stoppedBefore !== undefined) start = settings.epochs + 1; // the run had stopped: nothing left to train

    for (let epoch = start; epoch <= settings.epochs; epoch++) {
      const began = performance.now();
      const batches = trainingBatches(data.train, {
        batchSize: settings.batch,
        sampleSize,
        seed: settings.seed,
        epoch,
        shuffle: settings.shuffle,
        mergeSingleton: net.batchNorms.length > 0,
        // Training batches only: validation, evaluation and exact population statistics see the data as it is.
        augment: augmenter,
      });
      if (batches.mergedLastSingleton) addNote(history, singletonNote(data.train.count, settings.batch));
      let lossSum = 0;
      let correct = 0;
      let samples = 0;
      let lrSum = 0;
      let lrFirst: number | undefined;
      let lrVaries = false;
      for (const batch of batches) {
        const dropout = net.hasDropout ? dropoutStreams(settings.seed, epoch, batch.step) : undefined;
        const lr = rates.at(epoch, batch.step);
        const step = (epoch - 1) * stepsPerEpoch + batch.step - 1; // over the whole run, from 0
        if (watcher?.due(step)) {
          const watchBegan = performance.now();
          const x = tf.tensor(batch.x, [batch.size, ...net.inputShape], "float32");
          watcher.record(step, x, dropout);
          x.dispose();
          if (options.timings) options.timings.watch += (performance.now() - watchBegan) / 1000;
          options.onWatch?.(watcher.series);
        }
        lrSum += lr;
        lrFirst ??= lr;
        if (lr !== lrFirst) lrVaries = true;
        const r = parallel ? parallel.step(batch, epoch, dropout, lr) : singleStep(batch, dropout, lr);
        if (!Number.isFinite(r.loss)) {
          fail("E601", {
            epoch,
            step: batch.step,
            value: String(r.loss),
            hint: nonFiniteHint(settings, epoch),
          });
        }
        lossSum += r.loss * batch.size;
        correct += r.correct;
        samples += batch.size;
        options.onBatchEnd?.({
          epoch,
          step: batch.step,
          steps: batch.steps,
          samples,
          loss: lossSum / samples,
          accuracy: correct / samples,
        });
        await yieldEvery(YIELD_MS);
      }
      const trainSeconds = (performance.now() - began) / 1000;
      parallel?.verify(epoch);
      const statsBegan = performance.now();
      if (statsSplit) recomputePopulationStatistics(net, statsSplit);
      const evalBegan = performance.now();
      const val = evaluateSplit(net, loss, data.validation);
      const record: EpochRecord = {
        epoch,
        loss: lossSum / samples,
        accuracy: correct / samples,
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        seconds: 0,
        // Training steps only: validation and population statistics are not in it.
        samplesPerSecond: samples / trainSeconds,
        // The mean of the steps' rates; a rate the same all epoch exactly (a sum of 15 x 0.2 is not 3).
        lr: lrVaries ? lrSum / batches.steps : lrFirst!,
      };
      if (options.evalTrain) {
        const t = evaluateSplit(net, loss, data.train);
        record.trainEvalLoss = t.loss;
        record.trainEvalAccuracy = t.accuracy;
      }
      record.seconds = (performance.now() - began) / 1000;
      if (options.timings) {
        options.timings.training += trainSeconds;
        options.timings.statistics += (evalBegan - statsBegan) / 1000;
        options.timings.evaluation += (performance.now() - evalBegan) / 1000;
      }
      history.epochs.push(record);
      rates.endEpoch(epoch, record.valLoss);
      const verdict = stopping?.endEpoch(epoch, stopping.value(record));
      // The weights validated just now, batchnorm statistics included (population statistics recomputed above).
      if (verdict?.best && settings.earlyStop?.restore) bestWeights = weightData(net);
      const done = epoch;
      // Reads the weights as they are when called: call it within onEpochEnd, before training goes on.
      const state = (): TrainState => ({
        epochsDone: done,
        history: {
          epochs: history.epochs.map((e) => ({ ...e })),
          ...(history.notes ? { notes: [...history.notes] } : {}),
          ...(history.watch ? { watch: structuredClone(history.watch) } : {}),
        },
        weights: weightData(net),
        optimizer: { step: optimizer.step, slots: optimizer.slots() },
        computedOn: { backend: tf.getBackend() as BackendName, threads: history.threads ?? 1 },
        ...(rates.state() ? { schedule: rates.state()! } : {}),
        ...(settings.schedule ? { scheduleEpochs: settings.epochs } : {}),
        ...(stopping
          ? { earlyStop: { ...stopping.state(), ...(bestWeights ? { weights: bestWeights } : {}) } }
          : {}),
      });
      await options.onEpochEnd?.(record, state);
      if (verdict?.stop) break;
    }
    if (stopping && settings.earlyStop) {
      finishEarlyStop(net, history, stopping, settings.earlyStop.restore ? bestWeights : undefined);
    }
    return history;
  } finally {
    if (history.splitKernels) {
      // What the run did, not what it planned: a helper thread that never started or failed split nothing.
      if (kernelSplitTotal() === splitsBefore) delete history.splitKernels;
      const problem = kernelSplitProblem();
      if (problem) addNote(history, `kernels ran on one core: ${problem}`);
    }
    setKernelThreads(1);
    await parallel?.close();
    optimizer.dispose();
  }
}

/**
 * The data-parallel threads the run uses (planThreads), started from the network's current weights and
 * optimizer state; undefined for one thread. If `auto` chose threads that cannot start, training goes on in
 * this thread with a note; threads asked for by number fail the run instead.
 */
async function startThreads(
  net: Network,
  settings: Train,
  samples: number,
  firstEpoch: number,
  options: FitOptions,
  optimizer: Optimizer,
  compiled: GradientFn | undefined,
  history: History,
  classWeights?: Float32Array,
): Promise<DataParallel | undefined> {
  // A resumed run keeps the thread count that computed its checkpoint where `auto` may choose: it then continues
  // bit for bit (the remaining steps alone might fall under auto's threshold).
  const before = options.resumeFrom?.computedOn;
  const auto = options.threads === undefined || options.threads === "auto";
  const kept = auto && before?.backend === tf.getBackend() ? before.threads : undefined;
  // A checkpoint computed on one training thread may continue with its kernels split (the same bits).
  const keepOne = kept === 1 && kernelSplitAvailable();
  const requested = keepOne ? "auto" : (kept ?? options.threads);
  const plan = planThreads({
    requested,
    model: net.model,
    batch: settings.batch,
    steps: Math.ceil(samples / settings.batch) * (settings.epochs - firstEpoch + 1),
    compiledStep: compiled !== undefined,
    backend: tf.getBackend() as BackendName,
    optimizer: settings.optimizer,
    ...(keepOne ? { parallel: "kernels" as const } : options.parallel ? { parallel: options.parallel } : {}),
    kernelSplit: kernelSplitAvailable(),
  });
  if (plan.splitKernels) {
    setKernelThreads(2);
    history.splitKernels = true;
  }
  if (options.threads === 1 && options.parallel === "kernels")
    addNote(history, "kernels not split: --threads 1 asks for one core (--parallel kernels needs two)");
  else if (plan.why && ((options.threads !== undefined && options.threads !== "auto") || options.parallel))
    addNote(
      history,
      plan.splitKernels
        ? `one training thread, its kernels split over 2 cores, not ${options.threads} threads: ${plan.why}`
        : options.parallel === "kernels"
          ? `kernels not split (--parallel kernels): ${plan.why}`
          : `trained on 1 thread, not ${options.threads}: ${plan.why}`,
    );
  if (plan.threads < 2 || !compiled) return undefined;
  try {
    return await startDataParallel({
      net,
      train: settings,
      optimizer,
      gradients: compiled,
      threads: plan.threads,
      backend: tf.getBackend() as BackendName,
      ...(classWeights ? { classWeights } : {}),
    });
  } catch (e) {
    if (options.threads !== undefined && options.threads !== "auto") throw e;
    addNote(
      history,
      `trained on 1 thread: the second training thread could not start (${(e as Error).message.split("\n")[0]})`,
    );
    return undefined;
  }
}

const computedOn = (c: { backend: string; threads: number }) =>
  `${c.backend} with ${c.threads} thread${c.threads === 1 ? "" : "s"}`;

/**
 * How often an epoch lets the event loop run: Ctrl-C (the CLI's SIGINT handler), progress timers and the
 * caller's other tasks. Without it an epoch was one synchronous stretch: measured, Ctrl-C during a Fashion-MNIST
 * convnet epoch took 27 s to take effect.
 */
const YIELD_MS = 50;
let lastYield = performance.now();

async function yieldEvery(ms: number): Promise<void> {
  if (performance.now() - lastYield < ms) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastYield = performance.now();
}

/**
 * E644 when early stopping or a plateau schedule would watch the test set: the epochs or rates it chose would
 * be chosen by the data the model is finally measured on (nnc check says so before, E337).
 */
export function requireValidation(settings: Train, data: Dataset): void {
  if (data.validationName !== "test") return;
  const what = settings.earlyStop
    ? "early_stop"
    : settings.schedule?.type === "plateau"
      ? "schedule plateau"
      : undefined;
  if (what) {
    fail(
      "E644",
      { what, source: data.source },
      { help: `hold out validation data: data ${data.source} validation=0.1` },
    );
  }
}

/**
 * After the last epoch trained: Keras' on_train_end (restore_best_weights: the best epoch's weights, whether the
 * run stopped early or not), and what happened, in the history and in words.
 */
function finishEarlyStop(
  net: Network,
  history: History,
  stopping: EarlyStopping,
  best: Record<string, WeightData> | undefined,
): void {
  const last = history.epochs.at(-1)?.epoch ?? 0;
  const bestEpoch = stopping.bestEpoch;
  const restored = best !== undefined && bestEpoch !== 0 && bestEpoch !== last;
  if (best && bestEpoch !== 0) setWeightData(net, best);
  const monitor = stopping.spec.monitor;
  history.earlyStop = {
    monitor,
    bestEpoch,
    ...(stopping.stopped !== undefined ? { stoppedAfter: stopping.stopped } : {}),
    restored: best !== undefined,
  };
  const kept = restored
    ? `the model saved is epoch ${bestEpoch}'s, the best ${monitor} (restore=true)`
    : best
      ? `the model saved is epoch ${bestEpoch}'s, the best ${monitor} and the last`
      : `the model saved is epoch ${last}'s, the last (restore=false; the best ${monitor} was epoch ${bestEpoch}'s)`;
  addNote(
    history,
    stopping.stopped !== undefined
      ? `early stopping: ${monitor} did not improve for ${plural(stopping.stopped - bestEpoch, "epoch")} ` +
          `after epoch ${bestEpoch}; stopped after epoch ${stopping.stopped}; ${kept}`
      : `early stopping did not stop the run; ${kept}`,
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Each note once, however many epochs (or resumed runs) it applies to. */
function addNote(history: History, note: string): void {
  if (!history.notes?.includes(note)) (history.notes ??= []).push(note);
}

/** Why an epoch has one batch fewer than count / batch rounded up (src/data/batches.ts merges it). */
const singletonNote = (count: number, batch: number): string =>
  `the last batch of each epoch would hold 1 sample (${count} samples at batch ${batch}): merged into the ` +
  "batch before it, since batch normalization cannot normalize a single sample";

/** The run's augmentation of training batches (src/data/augment.ts), or undefined; E647 where it cannot apply. */
function augmenterFor(net: Network, settings: Train): Augmenter | undefined {
  try {
    return createAugmenter(settings.augment, net.inputShape, settings.seed);
  } catch (e) {
    if (e instanceof RangeError) fail("E647", { reason: e.message });
    throw e;
  }
}

/** A dense batchnorm at batch 1 (or on a one-sample training set) would normalize a single value: E620. */
function checkBatchNormBatches(net: Network, batch: number, samples: number): void {
  const perBatch = Math.min(batch, samples);
  if (perBatch > 1) return;
  for (const node of net.batchNorms) {
    // Values per channel per sample: the spatial positions (outputShape is [batch, ...spatial, channels]).
    const spatial = sizeOf(node.layer.outputShape?.slice(1, -1) ?? []);
    if (spatial * perBatch < 2) fail("E620", { layer: node.layer.name, batch, samples });
  }
}
