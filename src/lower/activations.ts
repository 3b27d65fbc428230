// Lowering: an IR activation -> its tfjs function, from the activation's module (src/ops/activations/, Keras'
// definitions). Used by dense/conv layers and by stand-alone activation layers.
import * as tf from "@tensorflow/tfjs-core";
import { activationOf, type Activation } from "../ops/activations/index.ts";
import type { FusedActivationName } from "../ops/activations/activation.ts";

export function applyActivation(x: tf.Tensor, activation: Activation): tf.Tensor {
  return activationOf(activation).forward(tf, x);
}

/** Activations tfjs can fuse into matMul / conv2d (inference only: under a tape only linear stays fused). */
export type FusableActivation = FusedActivationName;
export const fusable = (a: Activation): a is Activation & FusableActivation => activationOf(a).fused === a;
