// Lowering: an IR activation name -> the tfjs function (Keras definitions: elu alpha 1, exact erf gelu,
// softmax over the last axis). Used by dense/conv layers and by stand-alone activation layers.
import * as tf from "@tensorflow/tfjs-core";
import type { Activation } from "../ir/schema.ts";

const SQRT1_2 = Math.SQRT1_2;

/** Keras' gelu default (approximate=False): x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
const gelu = (x: tf.Tensor): tf.Tensor => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT1_2)), 1));

export function applyActivation(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case "linear":
      return x;
    case "relu":
      return tf.relu(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "tanh":
      return tf.tanh(x);
    case "softmax":
      return tf.softmax(x);
    case "elu":
      return tf.elu(x);
    case "gelu":
      return gelu(x);
  }
}

/** Activations tfjs can fuse into matMul / conv2d (inference only: under a tape only linear stays fused). */
export type FusableActivation = "linear" | "relu" | "elu" | "sigmoid";
export const fusable = (a: Activation): a is FusableActivation =>
  a === "linear" || a === "relu" || a === "elu" || a === "sigmoid";
