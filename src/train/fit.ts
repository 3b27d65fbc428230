// Training: a lowered network + a data set + train settings -> a History, via a loop of our own (not model.fit):
// seeded shuffling, one batch tensor per step from a reused buffer, Keras optimizers with named slots, batchnorm
// statistics, resume; gradients by the hand-written backward where it covers the network, else autograd.
import * as tf from "@tensorflow/tfjs-core";
import { trainingBatches } from "../data/batches.ts";
import { compatibleShapes } from "../data/shapes.ts";
import type { Dataset } from "../data/types.ts";
import { fail } from "../diagnostics/index.ts";
import type { Train } from "../ir/schema.ts";
import { withTrainOverrides } from "../ir/train-overrides.ts";
import { lowerLoss, modelLoss, type LoweredLoss } from "../lower/loss.ts";
import type { Network } from "../lower/network.ts";
import type { EpochRecord, FitOptions, History, TrainState, WeightData } from "../runtime/types.ts";
import { Random } from "../util/random.ts";
import { formatShape, sizeOf } from "../util/shape.ts";
import { evaluateSplit, sampleSizeOf } from "./evaluate.ts";
import { createOptimizer } from "./optimizers.ts";
import { autogradGradients, trainStep, type GradientFn } from "./step.ts";
import { manualGradients } from "./manual-backward.ts";
import { recomputePopulationStatistics, sampleSplit } from "./population-stats.ts";

/** Weights as plain data (copied out of the backend): what checkpoints and save files hold. */
export function weightData(net: Network): Record<string, WeightData> {
  const out: Record<string, WeightData> = {};
  for (const w of net.weights) {
    out[w.name] = { shape: [...w.variable.shape], data: Float32Array.from(w.variable.dataSync()) };
  }
  return out;
}

/** Dropout masks as a function of (seed, epoch, step, layer) alone, so a resumed run draws the same ones. */
const dropoutStreams = (seed: number, epoch: number, step: number) => {
  const base = new Random(seed);
  return (layer: string) => base.fork(`dropout:${epoch}:${step}:${layer}`);
};

function nonFiniteHint(settings: Train): string {
  const opt = settings.optimizer;
  return (
    `the learning rate ${opt.lr} is probably too high for ${opt.type} (try ${+(opt.lr / 10).toPrecision(3)}); ` +
    "inputs that are not scaled (e.g. raw 0-255 pixels) or a batch size too small for batchnorm can also diverge. " +
    "The last checkpoint (end of the previous epoch) holds the last good weights"
  );
}

/**
 * The hand-written backward where it covers every layer of the network (it is tested equal to autograd), else
 * autograd. `"autograd"` forces the reference path.
 */
export function chooseGradients(
  net: Network,
  loss: LoweredLoss,
  choice: "auto" | "autograd" | undefined,
): GradientFn {
  if (choice !== "autograd") {
    const manual = manualGradients(net, loss);
    if (manual) return manual;
  }
  return autogradGradients(net, loss);
}

/** Trains `net` in place. Throws NncError E601 on a non-finite loss, E507/E620 before training on bad input. */
export async function fitNetwork(
  net: Network,
  settingsBase: Train,
  data: Dataset,
  options: FitOptions & { gradients?: "auto" | "autograd" } = {},
): Promise<History> {
  const settings = withTrainOverrides(settingsBase, options.train);
  const loss = lowerLoss(net, modelLoss(net.model, settings.loss));
  const sampleSize = sampleSizeOf(net);
  if (!compatibleShapes(data.sampleShape, net.inputShape)) {
    fail("E507", {
      source: data.source,
      dataShape: formatShape(data.sampleShape),
      inputShape: formatShape(net.inputShape),
    });
  }
  checkBatchNormBatches(net, settings.batch, data.train.count);

  const optimizer = createOptimizer(settings.optimizer, net.trainable);
  const gradients = chooseGradients(net, loss, options.gradients);
  try {
    const history: History = { epochs: [] };
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
    const statsSplit = exact
      ? sampleSplit(data.train, settings.bnstats.sample, settings.seed, sampleSize)
      : undefined;

    for (let epoch = start; epoch <= settings.epochs; epoch++) {
      const began = performance.now();
      const batches = trainingBatches(data.train, {
        batchSize: settings.batch,
        sampleSize,
        seed: settings.seed,
        epoch,
        shuffle: settings.shuffle,
        mergeSingleton: net.batchNorms.length > 0,
      });
      if (batches.mergedLastSingleton) addNote(history, singletonNote(data.train.count, settings.batch));
      let lossSum = 0;
      let correct = 0;
      let samples = 0;
      for (const batch of batches) {
        const x = tf.tensor(batch.x, [batch.size, ...net.inputShape], "float32");
        const y = tf.tensor1d(batch.y, "int32");
        const dropout = net.hasDropout ? dropoutStreams(settings.seed, epoch, batch.step) : undefined;
        let r: { loss: number; correct: number };
        try {
          r = trainStep(gradients, optimizer, { x, y, dropoutRng: dropout });
        } finally {
          x.dispose();
          y.dispose();
        }
        if (!Number.isFinite(r.loss)) {
          fail("E601", { epoch, step: batch.step, value: String(r.loss), hint: nonFiniteHint(settings) });
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
      }
      const trainSeconds = (performance.now() - began) / 1000;
      if (statsSplit) recomputePopulationStatistics(net, statsSplit);
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
      };
      if (options.evalTrain) {
        const t = evaluateSplit(net, loss, data.train);
        record.trainEvalLoss = t.loss;
        record.trainEvalAccuracy = t.accuracy;
      }
      record.seconds = (performance.now() - began) / 1000;
      history.epochs.push(record);
      const done = epoch;
      // Reads the weights as they are when called: call it within onEpochEnd, before training goes on.
      const state = (): TrainState => ({
        epochsDone: done,
        history: {
          epochs: history.epochs.map((e) => ({ ...e })),
          ...(history.notes ? { notes: [...history.notes] } : {}),
        },
        weights: weightData(net),
        optimizer: { step: optimizer.step, slots: optimizer.slots() },
      });
      await options.onEpochEnd?.(record, state);
    }
    return history;
  } finally {
    optimizer.dispose();
  }
}

/** Each note once, however many epochs (or resumed runs) it applies to. */
function addNote(history: History, note: string): void {
  if (!history.notes?.includes(note)) (history.notes ??= []).push(note);
}

/** Why an epoch has one batch fewer than count / batch rounded up (src/data/batches.ts merges it). */
const singletonNote = (count: number, batch: number): string =>
  `the last batch of each epoch would hold 1 sample (${count} samples at batch ${batch}): merged into the ` +
  "batch before it, since batch normalization cannot normalize a single sample";

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

/** Loads plain weight data into the network's variables (every weight must be present, shapes must match). */
export function setWeightData(net: Network, weights: Record<string, WeightData>): void {
  for (const w of net.weights) {
    const d = weights[w.name];
    if (!d) throw new Error(`checkpoint has no weight ${w.name}`);
    tf.tidy(() => w.variable.assign(tf.tensor(Float32Array.from(d.data), w.variable.shape, "float32")));
  }
}
