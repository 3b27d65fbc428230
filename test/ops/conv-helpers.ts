// Test helpers for the convolution ops of issue 20 (depthwise, separable, transposed, dilated): each phase's check
// as one call over a spec: the compiled step against autograd, two threads against one, batchnorm folded against
// unfolded, nnc import of the Keras export, ONNX in onnxruntime against nnc, nnc's own save and load.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import * as ort from "onnxruntime-web";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { load } from "../../src/api.ts";
import { compile } from "../../src/compile.ts";
import { formatSource } from "../../src/format/index.ts";
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
import { assertKerasParity, kerasParity, randomizeWeights, seededBatch } from "./parity.ts";
import { assertCompiledStepAgrees as stepAgrees, assertThreadsAgree as threadsAgree, TRAIN } from "./step.ts";

ort.env.wasm.numThreads = 1;

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const inputShape = (source: string): number[] => {
  const first = program(source).models[0]!.layers[0]!;
  return first.op === "input" ? [...first.shape] : [];
};

/**
 * The compiled step (closed-form backward) equals the autograd step over 3 Adam steps on `backend`
 * (test/ops/step.ts), with the batchnorms' absorbed biases those worked out from the IR.
 */
export async function assertCompiledStepAgrees(source: string, backend: "wasm" | "cpu"): Promise<void> {
  await useBackend(backend);
  const p = program(source);
  const net = new Network(p.models[0]!, 4);
  try {
    assert.equal(
      net.absorbedBiases.map((w) => w.name).sort(),
      absorbableBiases(p.models[0]!).sort(),
      "absorbed biases",
    );
  } finally {
    net.dispose();
  }
  const largest = await stepAgrees(source + TRAIN, backend);
  assert.ok(largest > 1e-4, "gradients are not all ~0");
}

/** Two data-parallel threads train `source` (plain SGD, 2 epochs, batch 7) to what one thread trains. */
export const assertThreadsAgree = (source: string): Promise<void> => threadsAgree(source + TRAIN);

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

/**
 * A convolution op's cases, one row per phase: convSuite runs each as a test. Every spec ends in a dense
 * classifier; `statements` are what nnc import must write back from the export of `roundTrip.spec`.
 */
export interface ConvCases {
  op: string;
  /** Specs whose Layers export tfjs-layers loads with nnc's parameter counts, shapes and predictions. */
  parity: string[];
  /** The op built with tfjs-layers' API on `input`: its count and shape equal nnc's in parity[api.spec]. */
  api?: { spec: number; input: number[]; layer: () => tfl.layers.Layer; params: number };
  /** Specs the compiled step covers: it equals autograd on wasm and cpu. */
  step?: string[];
  /** A spec two threads train as one does. */
  threads?: string;
  /** A spec whose batchnorms fold (their names) and lint W410 only, none once its first use drops its bias. */
  fold?: { spec: string; folded: string[]; unbiased: [string, string] };
  /** Export, nnc import (statements written back), load and ONNX (at least `conv` Conv nodes when folded). */
  roundTrip?: {
    spec: string;
    statements: string[];
    onnx: (operators: Record<string, number>, folded: boolean) => void;
  };
  /** A block the formatter keeps as it is (and re-indents to it). */
  formatted: string;
  /** Specs that do not compile, with the first error's code. */
  errors: Array<[spec: string, code: string]>;
}

/** The convolution op's suite of cases (test/ops/<op>.test.ts holds its table and its own extra tests). */
export function convSuite(c: ConvCases) {
  const Op = suite(`op ${c.op}`);
  for (const spec of c.parity) {
    Op(`against tfjs-layers: ${spec.split("\n").slice(1, 3).join("; ")}`, () => assertKerasParity(spec));
  }
  const api = c.api;
  if (api) {
    Op("parameter count and shape equal tfjs-layers' own layer built with its API", async () => {
      const parity = await kerasParity(c.parity[api.spec]!);
      const ours = parity.layers.find((l) => l.op === c.op)!;
      const layer = api.layer();
      const out = layer.apply(tfl.input({ shape: api.input })) as tfl.SymbolicTensor;
      assert.is(ours.nncParams, layer.countParams());
      assert.is(ours.nncParams, api.params);
      assert.equal(ours.nncShape, out.shape);
    });
  }
  for (const spec of c.step ?? []) {
    for (const backend of ["wasm", "cpu"] as const) {
      Op(`compiled step == autograd (${backend}): ${spec.slice(0, 70)}`, () =>
        assertCompiledStepAgrees(spec, backend),
      );
    }
  }
  const threads = c.threads;
  if (threads) Op("two threads train what one thread trains", () => assertThreadsAgree(threads));
  const fold = c.fold;
  if (fold) {
    Op("a batchnorm after it folds into its kernel and bias; W410 names its bias", async () => {
      assert.equal(await foldedAgree(fold.spec), fold.folded);
      assert.equal(lintCodes(fold.spec), ["W410"]);
      assert.equal(lintCodes(fold.spec.replace(...fold.unbiased)), []);
    });
  }
  const trip = c.roundTrip;
  if (trip) {
    Op("nnc import of the export writes the statement back; load and ONNX predict as nnc", async () => {
      const saved = await savedModel(trip.spec);
      const text = await importedSpec(saved.dir);
      for (const statement of trip.statements) assert.match(text, statement);
      await assertLoadAgrees(saved);
      trip.onnx(await assertOnnxAgrees(saved, true), true);
      if (trip.spec.includes("batchnorm")) trip.onnx(await assertOnnxAgrees(saved, false), false);
    });
  }
  Op("the formatter keeps the statement", async () => {
    assert.is(await formatSource(c.formatted), c.formatted);
    assert.is(await formatSource(c.formatted.replace(`  ${c.op}`, `      ${c.op}`)), c.formatted);
  });
  Op(`errors: ${c.errors.map(([, code]) => code).join(", ")}`, () => {
    for (const [spec, code] of c.errors) assert.is(errorCode(spec), code, spec);
  });
  return Op;
}
