// Test helpers for "the compiled step equals the autograd step": one step as trainStep runs it (gradients read
// back as plain arrays), the biases whose exact gradient is 0, and the comparison of two steps' results.
import * as tf from "@tensorflow/tfjs-core";
import * as assert from "uvu/assert";
import { consumersOf, nodesByName } from "../../src/ir/graph.ts";
import type { Model } from "../../src/ir/schema.ts";
import type { Network } from "../../src/lower/network.ts";
import type { Optimizer } from "../../src/train/optimizers.ts";
import { updateMovingStatisticsInPlace, type GradientFn } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { closeness, values } from "../lower/helpers.ts";

export interface StepResult {
  loss: number;
  correct: number;
  grads: Record<string, Float32Array | number[]>;
  /** The batchnorm nodes that reported statistics, in the order they did. */
  stats: string[];
}

/** One training step as trainStep runs it (step t's dropout masks), returning the gradients as plain arrays. */
export function step(fn: GradientFn, opt: Optimizer, x: tf.Tensor, y: tf.Tensor1D, t: number): StepResult {
  const kept: tf.Tensor[] = [];
  const out = tf.tidy(() => {
    const dropoutRng = (layer: string) => new Random(9).fork(`dropout:${t}:${layer}`);
    const g = fn({ x, y, dropoutRng }, kept);
    const grads = Object.fromEntries(Object.entries(g.grads).map(([k, v]) => [k, values(v)]));
    const loss = values(g.loss)[0]!;
    const correct = values(g.correct)[0]!;
    const stats = g.bnStats.map((s) => s.node.layer.name);
    opt.apply(g.grads);
    updateMovingStatisticsInPlace(g.bnStats);
    return { loss, correct, grads, stats };
  });
  tf.dispose(kept);
  return out;
}

/**
 * Biases feeding a batchnorm as their node's one consumer: their exact gradient is 0 (the batch mean subtracts
 * them). Worked out from the IR here, independently of Network.absorbedBiases.
 */
export function absorbableBiases(model: Model): string[] {
  const nodes = nodesByName(model);
  const consumers = consumersOf(model);
  return model.layers.flatMap((l) => {
    if (l.op !== "batchnorm") return [];
    const p = nodes.get(l.inputs[0]!)!;
    const channelAffine = ["dense", "conv1d", "conv2d", "depthwise_conv2d", "separable_conv2d"].includes(p.op);
    const affine = channelAffine && "useBias" in p && p.useBias && "activation" in p && p.activation === "linear";
    return affine && consumers.get(p.name)!.length === 1 ? [`${p.name}/bias`] : [];
  });
}

/**
 * Step t of the autograd path (a, on `reference` with `optA`) and of the compiled one (m, on `compiled` with
 * `optM`) agree: loss (1e-5), correct count, the same gradients (absorbed biases exactly 0), then every weight
 * (moving statistics included) and every optimizer slot.
 */
export function assertStepsAgree(
  t: number,
  a: StepResult,
  m: StepResult,
  nets: { reference: Network; compiled: Network; optA: Optimizer; optM: Optimizer },
): void {
  assert.ok(
    Math.abs(a.loss - m.loss) <= 1e-5 * Math.abs(a.loss) + 1e-6,
    `step ${t} loss ${a.loss} vs ${m.loss}`,
  );
  assert.is(m.correct, a.correct, `step ${t} correct`);
  assert.equal(Object.keys(m.grads).sort(), Object.keys(a.grads).sort());
  for (const k of absorbableBiases(nets.reference.model)) {
    assert.ok(a.grads[k]!.every((g) => g === 0) && m.grads[k]!.every((g) => g === 0), `${k} gradient 0`);
  }
  for (const k of Object.keys(a.grads)) {
    const c = closeness(m.grads[k]!, a.grads[k]!, 1e-5, 1e-6);
    assert.ok(c <= 1, `step ${t} gradient ${k}: worst ${c}`);
  }
  for (const w of nets.reference.weights) {
    const c = closeness(values(nets.compiled.weight(w.name)!.variable), values(w.variable), 1e-5, 1e-6);
    assert.ok(c <= 1, `step ${t} weight ${w.name}: worst ${c}`);
  }
  const slotsA = nets.optA.slots();
  const slotsM = nets.optM.slots();
  for (const k of Object.keys(slotsA)) {
    const c = closeness(slotsM[k]!.data, slotsA[k]!.data, 1e-4, 1e-7);
    assert.ok(c <= 1, `step ${t} slot ${k}: worst ${c}`);
  }
}
