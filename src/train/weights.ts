// Training: a network's weights as plain data and back (checkpoints, resume, the threads of data-parallel
// training).
import * as tf from "@tensorflow/tfjs-core";
import type { Network } from "../lower/network.ts";
import type { WeightData } from "../runtime/types.ts";

/** Weights as plain data (copied out of the backend): what checkpoints and save files hold. */
export function weightData(net: Network): Record<string, WeightData> {
  const out: Record<string, WeightData> = {};
  for (const w of net.weights) {
    out[w.name] = { shape: [...w.variable.shape], data: Float32Array.from(w.variable.dataSync()) };
  }
  return out;
}

/** Loads plain weight data into the network's variables (every weight must be present, shapes must match). */
export function setWeightData(net: Network, weights: Record<string, WeightData>): void {
  for (const w of net.weights) {
    const d = weights[w.name];
    if (!d) throw new Error(`checkpoint has no weight ${w.name}`);
    tf.tidy(() => w.variable.assign(tf.tensor(Float32Array.from(d.data), w.variable.shape, "float32")));
  }
}
