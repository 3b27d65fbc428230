// Test helper for op modules: an op in training. The compiled step (each kernel's stage and closed-form
// backward) against the autograd step over several Adam steps (test/speed/step-agreement.ts: loss, gradients,
// weights, slots to 1e-5), and two data-parallel threads against one over whole epochs (test/train/graph.test.ts'
// check, for any spec).
import * as tf from "@tensorflow/tfjs-core";
import * as assert from "uvu/assert";
import type { Split } from "../../src/data/types.ts";
import type { Program } from "../../src/ir/schema.ts";
import { lowerLoss } from "../../src/lower/loss.ts";
import { buildModel } from "../../src/lower/model.ts";
import { Network } from "../../src/lower/network.ts";
import type { EpochRecord } from "../../src/runtime/types.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { createOptimizer } from "../../src/train/optimizers.ts";
import { autogradGradients } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { sizeOf } from "../../src/util/shape.ts";
import { blobs, closeness, dataset, program, useBackend, weightsOf } from "../lower/helpers.ts";
import { assertStepsAgree, step } from "../speed/step-agreement.ts";

/** A train block for the op tests: the optimizer and batch the checks below use. */
export const TRAIN = "\ntrain {\n  data mnist\n  optimizer sgd lr=0.05\n  batch 7\n  epochs 2\n  seed 5\n}\n";

const ADAM = { type: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

const inputShape = (p: Program): number[] => {
  const first = p.models[0]!.layers[0]!;
  return first.op === "input" ? first.shape : [];
};
const classes = (p: Program): number => p.models[0]!.layers.at(-1)!.outputShape!.at(-1) as number;

/**
 * The compiled step covers `spec` and equals the autograd step for `steps` Adam steps on `backend` (each step's
 * random streams as trainStep gives them). Returns the largest |gradient| seen, so a test can see they moved.
 */
export async function assertCompiledStepAgrees(
  spec: string,
  backend: "wasm" | "cpu" = "wasm",
  steps = 3,
): Promise<number> {
  await useBackend(backend);
  const p = program(spec);
  const model = p.models[0]!;
  const reference = new Network(model, 4);
  const compiled = new Network(model, 4);
  const manual = manualGradients(compiled, lowerLoss(compiled, p.train.loss));
  assert.ok(manual, "covered by the compiled step");
  const auto = autogradGradients(reference, lowerLoss(reference, p.train.loss));
  const optA = createOptimizer(ADAM, reference.trainable);
  const optM = createOptimizer(ADAM, compiled.trainable);
  const rng = new Random(11);
  const shape = inputShape(p);
  const batch = 10;
  let largest = 0;
  try {
    for (let t = 1; t <= steps; t++) {
      const x = tf.tensor(
        Float32Array.from({ length: batch * sizeOf(shape) }, () => rng.normal()),
        [batch, ...shape],
      );
      const y = tf.tensor1d(
        Int32Array.from({ length: batch }, () => rng.int(classes(p))),
        "int32",
      );
      const a = step(auto, optA, x, y, t);
      const m = step(manual!, optM, x, y, t);
      tf.dispose([x, y]);
      assertStepsAgree(t, a, m, { reference, compiled, optA, optM });
      for (const g of Object.values(a.grads)) for (const v of g) largest = Math.max(largest, Math.abs(v));
    }
  } finally {
    optA.dispose();
    optM.dispose();
    reference.dispose();
    compiled.dispose();
    await useBackend("wasm");
  }
  return largest;
}

/** Whether the compiled step covers `spec` (else training takes the autograd step). */
export function compiledStepCovers(spec: string): boolean {
  const p = program(spec);
  const net = new Network(p.models[0]!, 4);
  try {
    return manualGradients(net, lowerLoss(net, p.train.loss)) !== undefined;
  } finally {
    net.dispose();
  }
}

const figures = (epochs: EpochRecord[]) =>
  epochs.flatMap((e) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]);

/**
 * Two data-parallel threads train `spec` (its train block: SGD, batch 7, so shares of 4 and 3 rows) to what one
 * thread trains: every epoch's figures and every weight up to float rounding; and the weights moved.
 */
export async function assertThreadsAgree(spec: string): Promise<void> {
  await useBackend("wasm");
  const p = program(spec);
  const shape = inputShape(p);
  const dims = sizeOf(shape);
  const all = blobs(84 + 28, classes(p), dims, 3);
  const cut = (from: number, to: number): Split => ({
    x: all.x.slice(from * dims, to * dims),
    scale: 1,
    y: all.y.slice(from, to),
    count: to - from,
  });
  const data = dataset(cut(0, 84), cut(84, 112), shape, classes(p));
  const train = async (threads: number) => {
    const m = buildModel(p, { backend: "wasm" });
    const history = await m.fit(data, { threads });
    const weights = weightsOf(m);
    m.dispose();
    return { history, weights };
  };
  const one = await train(1);
  const two = await train(2);
  assert.is(two.history.threads, 2, `two threads ran (notes: ${two.history.notes})`);
  const f = closeness(figures(two.history.epochs), figures(one.history.epochs), 1e-4, 1e-6);
  assert.ok(f <= 1, `history differs beyond float rounding (${f})`);
  for (const [w, v] of Object.entries(one.weights)) {
    const c = closeness(two.weights[w]!, v, 1e-4, 1e-5);
    assert.ok(c <= 1, `${w} differs beyond float rounding (${c})`);
  }
  const initial = buildModel(p, { backend: "wasm" });
  const moved = Object.entries(weightsOf(initial)).some(
    ([w, v]) => closeness(one.weights[w]!, v, 0, 1e-7) > 1,
  );
  initial.dispose();
  assert.ok(moved, "training moved the weights");
}

/**
 * For an op the compiled step leaves out: the step does not cover `spec`, and autograd's gradients (the step
 * that trains it) are equal on wasm and cpu, and not all ~0. Returns the largest |gradient|.
 */
export async function assertAutogradAgrees(spec: string): Promise<number> {
  assert.not.ok(compiledStepCovers(spec), "the compiled step leaves it out");
  const p = program(spec);
  const shape = inputShape(p);
  const rng = new Random(3);
  const batch = 8;
  const x = Float32Array.from({ length: batch * sizeOf(shape) }, () => rng.normal());
  const y = Int32Array.from({ length: batch }, () => rng.int(classes(p)));
  const gradients = async (backend: "wasm" | "cpu") => {
    await useBackend(backend);
    const net = new Network(p.models[0]!, 4);
    const fn = autogradGradients(net, lowerLoss(net, p.train.loss));
    const out = tf.tidy(() => {
      const batchData = {
        x: tf.tensor(x, [batch, ...shape]),
        y: tf.tensor1d(y, "int32"),
        dropoutRng: undefined,
      };
      const g = fn(batchData, []);
      return Object.fromEntries(Object.entries(g.grads).map(([k, v]) => [k, Array.from(v.dataSync())]));
    });
    net.dispose();
    return out;
  };
  const cpu = await gradients("cpu");
  const wasm = await gradients("wasm");
  assert.equal(Object.keys(wasm).sort(), Object.keys(cpu).sort());
  let largest = 0;
  for (const k of Object.keys(cpu)) {
    assert.ok(closeness(wasm[k]!, cpu[k]!, 1e-4, 1e-6) <= 1, `${k}: wasm and cpu gradients differ`);
    for (const v of cpu[k]!) largest = Math.max(largest, Math.abs(v));
  }
  return largest;
}
