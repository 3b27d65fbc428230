// Lowering: the IR's per-layer `l2` (Keras kernel_regularizer=L2) + a network -> its penalty, l2 * sum(kernel^2)
// summed over the regularized layers, and that penalty's gradient 2 * l2 * kernel. Keras adds the penalty to the
// loss it minimizes and reports, training and evaluation alike (keras/src/trainers/trainer.py compute_loss adds
// `self.losses`; keras/src/regularizers/regularizers.py L2: `l2 * ops.sum(ops.square(x))`).
import * as tf from "@tensorflow/tfjs-core";
import { opOf } from "../ops/index.ts";
import type { Network, WeightEntry } from "./network.ts";

export interface L2Penalty {
  readonly weight: WeightEntry;
  readonly l2: number;
}

/** The kernels the network regularizes, with their factors (none: an empty list, and nothing changes). */
export function l2Penalties(net: Network): L2Penalty[] {
  const out: L2Penalty[] = [];
  for (const layer of net.model.layers) {
    const l2 = (layer as { l2?: number }).l2;
    if (!l2) continue;
    for (const suffix of opOf(layer).regularizedKernels ?? ["kernel"]) {
      const weight = net.weights.find((w) => w.name === `${layer.name}/${suffix}`);
      if (!weight) throw new Error(`internal: no ${suffix} for regularized layer ${layer.name}`);
      out.push({ weight, l2 });
    }
  }
  return out;
}

/** The penalty as a tensor (differentiable: the autograd path adds it to the loss it differentiates). */
export function penaltyTensor(penalties: readonly L2Penalty[]): tf.Scalar {
  return tf.addN(penalties.map((p) => tf.mul(tf.sum(tf.square(p.weight.variable)), p.l2))) as tf.Scalar;
}

/** The penalty's value, in float64 over the kernels' values (one read each, no kernels). */
export function penaltyValue(penalties: readonly L2Penalty[]): number {
  let total = 0;
  for (const p of penalties) {
    const w = p.weight.variable.dataSync() as Float32Array;
    let s = 0;
    for (let j = 0; j < w.length; j++) s += w[j]! * w[j]!;
    total += p.l2 * s;
  }
  return total;
}

/**
 * Adds the penalty's gradient, 2 * l2 * kernel times `share`, to `grads` (by Keras weight name). A thread that
 * computes a share of the batch adds that share, so the threads' gradients sum to the whole.
 */
export function addPenaltyGradients(
  penalties: readonly L2Penalty[],
  grads: Record<string, tf.Tensor>,
  share = 1,
): void {
  for (const p of penalties) {
    const g = grads[p.weight.name];
    if (!g) throw new Error(`internal: no gradient for ${p.weight.name}`);
    grads[p.weight.name] = tf.add(g, tf.mul(p.weight.variable, 2 * p.l2 * share));
  }
}
