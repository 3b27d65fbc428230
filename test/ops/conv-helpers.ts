// Test helpers for the convolution ops of issue 20 (depthwise, separable, transposed, dilated): each phase's check
// as one call over a spec: the compiled step against autograd, two threads against one, batchnorm folded against
// unfolded, nnc import of the Keras export, ONNX in onnxruntime against nnc, nnc's own save and load.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as ort from "onnxruntime-web";
import * as assert from "uvu/assert";
import { load } from "../../src/api.ts";
import { compile } from "../../src/compile.ts";
import { importKeras } from "../../src/import/import.ts";
import { foldBatchNorm } from "../../src/lower/fold-bn.ts";
import { lowerLoss } from "../../src/lower/loss.ts";
import { buildModel } from "../../src/lower/model.ts";
import { Network } from "../../src/lower/network.ts";
import { exportOnnx } from "../../src/onnx/index.ts";
import type { WeightData } from "../../src/runtime/types.ts";
import { saveModel } from "../../src/save/index.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { createOptimizer } from "../../src/train/optimizers.ts";
import { autogradGradients } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { tempDir } from "../helpers.ts";
import { blobs, closeness, dataset, program, useBackend, values, weightsOf } from "../lower/helpers.ts";
import { absorbableBiases, assertStepsAgree, step } from "../speed/step-agreement.ts";
import { randomizeWeights, seededBatch } from "./parity.ts";

ort.env.wasm.numThreads = 1;

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const inputShape = (source: string): number[] => {
  const first = program(source).models[0]!.layers[0]!;
  return first.op === "input" ? [...first.shape] : [];
};

/**
 * The compiled step (closed-form backward) equals the autograd step over 3 Adam steps on `backend`: loss,
 * correct count, every gradient (absorbed biases exactly 0), weight, moving statistic and optimizer slot.
 */
export async function assertCompiledStepAgrees(source: string, backend: "wasm" | "cpu"): Promise<void> {
  await useBackend(backend);
  const p = program(source);
  const shape = inputShape(source);
  const reference = new Network(p.models[0]!, 4);
  const compiled = new Network(p.models[0]!, 4);
  assert.equal(
    compiled.absorbedBiases.map((w) => w.name).sort(),
    absorbableBiases(p.models[0]!).sort(),
    "absorbed biases",
  );
  const manual = manualGradients(compiled, lowerLoss(compiled, p.train.loss));
  assert.ok(manual, "covered by the compiled step");
  const auto = autogradGradients(reference, lowerLoss(reference, p.train.loss));
  const adam = { type: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;
  const optA = createOptimizer(adam, reference.trainable);
  const optM = createOptimizer(adam, compiled.trainable);
  const rng = new Random(11);
  const batch = 12;
  const classes = p.models[0]!.layers.at(-1)!.outputShape!.at(-1)!;
  try {
    for (let t = 1; t <= 3; t++) {
      const x = tf.tensor(
        Float32Array.from({ length: batch * sizeOf(shape) }, () => rng.normal()),
        [batch, ...shape],
      );
      const y = tf.tensor1d(
        Int32Array.from({ length: batch }, () => rng.int(classes)),
        "int32",
      );
      const a = step(auto, optA, x, y, t);
      const m = step(manual!, optM, x, y, t);
      tf.dispose([x, y]);
      assert.ok(
        Object.values(a.grads).some((g) => g.some((v) => Math.abs(v) > 1e-4)),
        "gradients are not all ~0",
      );
      assertStepsAgree(t, a, m, { reference, compiled, optA, optM });
    }
  } finally {
    optA.dispose();
    optM.dispose();
    reference.dispose();
    compiled.dispose();
    await useBackend("wasm");
  }
}

/** Two data-parallel threads train `source` (plain SGD, 2 epochs, batch 7) to what one thread trains. */
export async function assertThreadsAgree(source: string): Promise<void> {
  await useBackend("wasm");
  const shape = inputShape(source);
  const dims = sizeOf(shape);
  const all = blobs(84 + 28, 3, dims, 3);
  const cut = (from: number, to: number) => ({
    x: all.x.slice(from * dims, to * dims),
    scale: 1,
    y: all.y.slice(from, to),
    count: to - from,
  });
  const data = dataset(cut(0, 84), cut(84, 112), shape, 3);
  const spec = `${source}\ntrain { optimizer sgd lr=0.05; batch 7; epochs 2; seed 5 }`;
  const train = async (threads: number) => {
    const m = buildModel(program(spec), { backend: "wasm" });
    const history = await m.fit(data, { threads });
    const weights = weightsOf(m);
    m.dispose();
    return { history, weights };
  };
  const one = await train(1);
  const two = await train(2);
  assert.is(two.history.threads, 2, `two threads ran (notes: ${two.history.notes})`);
  const figures = (h: typeof one.history) =>
    h.epochs.flatMap((e) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]);
  assert.ok(closeness(figures(two.history), figures(one.history), 1e-4, 1e-6) <= 1, "histories differ");
  const initial = buildModel(program(spec), { backend: "wasm" });
  const start = weightsOf(initial);
  initial.dispose();
  let moved = 0;
  for (const [w, v] of Object.entries(one.weights)) {
    const c = closeness(two.weights[w]!, v, 1e-4, 1e-5);
    assert.ok(c <= 1, `${w} differs beyond float rounding (${c})`);
    if (closeness(v, start[w]!, 1e-6, 1e-7) > 1) moved++;
  }
  assert.ok(moved > 0, "the runs trained");
}

/**
 * Folding the batchnorms of `source` (trained-looking statistics) keeps its predictions (1e-5); returns the
 * folded batchnorms' names.
 */
export async function foldedAgree(source: string): Promise<string[]> {
  await useBackend("wasm");
  const p = program(source);
  const model = buildModel(p, { backend: "wasm", seed: 1 });
  randomizeWeights(model, 4);
  const weights: Record<string, WeightData> = Object.fromEntries(
    Object.entries(model.getWeights()).map(([k, t]) => [
      k,
      { shape: [...t.shape], data: Float32Array.from(t.dataSync()) },
    ]),
  );
  const folded = foldBatchNorm(p, weights);
  const foldedModel = buildModel(folded.program, { backend: "wasm" });
  foldedModel.setWeights(folded.weights);
  const x = seededBatch(p, 8);
  const a = values(model.predict(x));
  const b = values(foldedModel.predict(x));
  const worst = closeness(b, a, 1e-5, 1e-6);
  assert.ok(worst <= 1, `folded predictions differ: worst ${worst}`);
  assert.ok(
    a.some((v) => Math.abs(v) > 1e-3),
    "predictions are not all ~0",
  );
  // What the folded program counts is what the folded weights hold.
  const counted = folded.program.models[0]!.layers.reduce(
    (n, l) => n + (l.params?.trainable ?? 0) + (l.params?.nonTrainable ?? 0),
    0,
  );
  assert.is(
    counted,
    Object.values(folded.weights).reduce((n, w) => n + w.data.length, 0),
  );
  tf.dispose(x);
  model.dispose();
  foldedModel.dispose();
  return folded.folded;
}

/** A model of `source` with seeded random weights, saved by nnc (Layers format + nnc's manifest) in a new folder. */
export async function savedModel(
  source: string,
): Promise<{ dir: string; predictions: number[]; x: tf.Tensor }> {
  await useBackend("wasm");
  const p = program(source);
  const model = buildModel(p, { backend: "wasm", seed: 1 });
  randomizeWeights(model, 5);
  const dir = tempDir("conv-op");
  saveModel(model, dir, {});
  const x = seededBatch(p, 6);
  const predictions = values(model.predict(x));
  model.dispose();
  return { dir, predictions, x };
}

/** nnc import of the saved model's model.json: the spec it writes (fails the test when the import fails). */
export async function importedSpec(dir: string): Promise<string> {
  const r = await importKeras(readFileSync(join(dir, "model.json"), "utf8"), { filename: "model.json" });
  assert.ok(r.ok, r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  assert.ok(compile(r.text!).ok, "the imported spec compiles");
  return r.text!;
}

/** load() of a saved folder predicts what the model predicted before saving. */
export async function assertLoadAgrees(saved: {
  dir: string;
  predictions: number[];
  x: tf.Tensor;
}): Promise<void> {
  const loaded = await load(saved.dir, { backend: "wasm" });
  try {
    const got = values(loaded.predict(saved.x));
    assert.ok(closeness(got, saved.predictions, 1e-6, 1e-7) <= 1, "loaded predictions differ");
  } finally {
    loaded.dispose();
  }
}

/** The saved model's ONNX export (batchnorm folded or not) in onnxruntime predicts what nnc predicted (1e-5). */
export async function assertOnnxAgrees(
  saved: { dir: string; predictions: number[]; x: tf.Tensor },
  foldBatchNorm = true,
): Promise<Record<string, number>> {
  const { bytes, info } = await exportOnnx(saved.dir, { backend: "wasm", foldBatchNorm });
  const session = await ort.InferenceSession.create(bytes);
  try {
    const input = new ort.Tensor("float32", saved.x.dataSync() as Float32Array, saved.x.shape);
    const result = await session.run({ [session.inputNames[0]!]: input });
    const got = Array.from(result[session.outputNames[0]!]!.data as Float32Array);
    assert.is(got.length, saved.predictions.length);
    const worst = Math.max(...got.map((v, i) => Math.abs(v - saved.predictions[i]!)));
    assert.ok(worst < 1e-5, `onnxruntime differs from nnc by ${worst}`);
    return info.operators;
  } finally {
    await session.release();
  }
}

/** The first diagnostic's code of a spec that must not compile. */
export function errorCode(source: string): string | undefined {
  const r = compile(source);
  assert.not.ok(r.ok, "expected an error");
  return r.diagnostics.find((d) => d.severity === "error")?.code;
}

/** Codes of a compiling spec's warnings and hints. */
export function lintCodes(source: string): string[] {
  const r = compile(source);
  assert.ok(r.ok, r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  return r.diagnostics.map((d) => d.code);
}
