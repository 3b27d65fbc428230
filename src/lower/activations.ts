// Lowering: an IR activation -> its tfjs function, from the activation's module (src/ops/activations/, Keras'
// definitions). Used by dense/conv layers and by stand-alone activation layers.
import * as tf from "@tensorflow/tfjs-core";
import { activationOf, type Activation, type ActivationParams } from "../ops/activations/index.ts";
import type { FusedActivationName } from "../ops/activations/activation.ts";

/** `params`: an activation node's own (leaky_relu's alpha); absent, the activation's defaults. */
export function applyActivation(x: tf.Tensor, activation: Activation, params?: ActivationParams): tf.Tensor {
  return activationOf(activation).forward(tf, x, params);
}

/** Activations tfjs can fuse into matMul / conv2d (inference only: under a tape only linear stays fused). */
export type FusableActivation = FusedActivationName;
export const fusable = (a: Activation): a is Activation & FusableActivation => activationOf(a).fused === a;
