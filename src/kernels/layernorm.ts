// Kernel of op `layernorm`: Keras LayerNormalization over the last axis, per sample. Not in the compiled step
// (autograd trains it).
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

/** gamma * (x - mean) / sqrt(var + epsilon) + beta, mean and variance over the last axis of each sample. */
function layerNormForward(
  x: tf.Tensor,
  gamma: tf.Variable | undefined,
  beta: tf.Variable | undefined,
  epsilon: number,
): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
  if (gamma) y = tf.mul(y, gamma);
  if (beta) y = tf.add(y, beta);
  return y;
}

export const layernorm: KernelDefinition<LayerOf<"layernorm">> = {
  op: "layernorm",
  lower(node, ctx) {
    const channels = [ctx.inputShapes[0]!.at(-1)!];
    // Keras' weight order: gamma, beta.
    const gamma = node.scale ? ctx.filled("gamma", channels, 1, true) : undefined;
    const beta = node.center ? ctx.filled("beta", channels, 0, true) : undefined;
    return { forward: ([x]) => layerNormForward(x!, gamma, beta, node.epsilon) };
  },
};
