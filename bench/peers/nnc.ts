// Bench peer: nnc's own training loop (CompiledModel.fit on the wasm backend) for one model and batch size.
// Three epochs over a fixed subset: the first warms up (kernels, heap), the best of the other two is reported
// (training steps only; this machine's throughput varies between runs).
// Usage: tsx bench/peers/nnc.ts MODEL BATCH SAMPLES SOURCE [THREADS] [AUGMENT]  (threads: 1, 2, ... (data-parallel),
// kernels (one training thread, kernels split over two) or auto;
// default 1. AUGMENT: the options of an `augment` statement, e.g. "flip=horizontal crop=2": training batches are
// augmented, and the time augmenting one batch takes alone is reported too)
import * as tf from "@tensorflow/tfjs-core";
import { buildModel, foldBatchNorm } from "../../src/lower/index.ts";
import type { CompiledModel } from "../../src/runtime/types.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { rowsAsFloat32 } from "../../src/data/index.ts";
import { createAugmenter } from "../../src/data/augment.ts";
import { readAugmentText } from "../../src/ir/augment.ts";
import { benchData, parseArgs, peakRssMB, report } from "./common.ts";
import { benchProgram } from "./models.ts";

const args = parseArgs(process.argv.slice(2));
const backend = await selectBackend("wasm");
const { subset } = await benchData(args);
const program = benchProgram(args.model, args.source, args.batch);
const model = buildModel(program, { backend: backend.name });
let tensorsAfterWarmUp = 0;
const threadsArg = process.argv[6] ?? "1";
// "kernels": one training thread whose SIMD kernels split over a second core; a number: data-parallel threads.
const threads = threadsArg === "auto" ? "auto" : threadsArg === "kernels" ? 2 : Number(threadsArg);
const parallel =
  threadsArg === "kernels" ? ("kernels" as const) : Number(threadsArg) > 1 ? ("data" as const) : undefined;
const augmentArg = process.argv[7];
const augment = augmentArg === undefined ? undefined : readAugmentText(augmentArg);
if (augmentArg !== undefined && !augment) throw new Error(`not an augmentation: ${augmentArg}`);
const history = await model.fit(subset, {
  train: { epochs: 3, ...(augment ? { augment } : {}) },
  threads,
  ...(parallel ? { parallel } : {}),
  onEpochEnd: (record) => {
    if (record.epoch === 1) tensorsAfterWarmUp = tf.memory().numTensors;
  },
});
const timed = history.epochs.slice(1).reduce((a, b) => (b.samplesPerSecond > a.samplesPerSecond ? b : a));
const tensorGrowth = tf.memory().numTensors - tensorsAfterWarmUp;
// Training's peak (fit evaluates and recomputes batchnorm statistics in its own inference batches): the
// inference rates below predict in batches of 1000, which for the convnet grows the wasm heap by ~200 MB.
const trainingPeak = peakRssMB();

/** Inference samples/s over the validation subset in batches of 1000 (best of three passes). */
function inferenceRate(m: CompiledModel): number {
  const v = subset.validation;
  const x = tf.tensor(rowsAsFloat32(v, 0, v.count, v.x.length / v.count), [v.count, ...inputShape]);
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const began = performance.now();
    for (let i = 0; i < v.count; i += 1000) {
      tf.tidy(() => m.predict(tf.slice(x, i, Math.min(1000, v.count - i))).dataSync());
    }
    best = Math.min(best, performance.now() - began);
  }
  x.dispose();
  return v.count / (best / 1000);
}
const input = program.models[0]!.layers[0]!;
const inputShape = input.op === "input" ? input.shape : [];
const extra: Record<string, number | string> = {
  backend: backend.detail,
  tensorGrowth,
  loss: timed.loss,
  threads: history.threads ?? 1,
  splitKernels: history.splitKernels ? 1 : 0,
};
if (augment) {
  // The augmentation of one batch alone (src/data/augment.ts, in place in a batch buffer), best of 20.
  const size = inputShape.reduce((a, b) => a * b, 1);
  const rows = Math.min(args.batch, subset.train.count);
  const base = rowsAsFloat32(subset.train, 0, rows, size);
  const x = new Float32Array(base.length);
  const augmenter = createAugmenter(augment, inputShape, 0)!;
  let best = Infinity;
  for (let i = 0; i < 20; i++) {
    x.set(base);
    const began = performance.now();
    augmenter.apply(x, rows, 1, i + 1);
    best = Math.min(best, performance.now() - began);
  }
  extra.augmentMsPerBatch = best;
}
if (!augment && program.models[0]!.layers.some((l) => l.op === "batchnorm")) {
  // Inference with batchnorm folded into the preceding dense/conv vs as trained.
  const weights = Object.fromEntries(
    Object.entries(model.getWeights()).map(([k, t]) => [
      k,
      { shape: [...t.shape], data: Float32Array.from(t.dataSync()) },
    ]),
  );
  const folded = foldBatchNorm(program, weights);
  const foldedModel = buildModel(folded.program, { backend: backend.name });
  foldedModel.setWeights(folded.weights);
  extra.inferUnfolded = inferenceRate(model);
  extra.inferFolded = inferenceRate(foldedModel);
  foldedModel.dispose();
}
model.dispose();
report({ samplesPerSecond: timed.samplesPerSecond, extra }, trainingPeak);
