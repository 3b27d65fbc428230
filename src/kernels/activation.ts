// Kernel of op `activation`: an elementwise activation as a node of its own (src/lower/activations.ts holds the
// functions). Its closed-form derivative, from the activation's output, serves dense and conv2d too.
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, LayerOf } from "../ir/schema.ts";
import { applyActivation } from "../lower/activations.ts";
import type { KernelDefinition } from "./kernel.ts";

/** Activations whose derivative the compiled step takes from their output (elu, gelu, softmax: autograd). */
export const STEP_ACTIVATIONS: readonly Activation[] = ["linear", "relu", "sigmoid", "tanh"];

/** dy times d activation / d input, from the activation's output `a` (every STEP_ACTIVATIONS one allows it). */
export function activationGrad(dy: tf.Tensor, a: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case "relu":
      return tf.mul(dy, tf.step(a));
    case "sigmoid":
      return tf.mul(dy, tf.mul(a, tf.sub(1, a)));
    case "tanh":
      return tf.mul(dy, tf.sub(1, tf.square(a)));
    default:
      return dy;
  }
}

export const activation: KernelDefinition<LayerOf<"activation">> = {
  op: "activation",
  lower: (node) => ({
    forward: ([x], _o, linear) => (linear ? x! : applyActivation(x!, node.activation)),
    stage({ logits }) {
      const fn = logits ? "linear" : node.activation;
      if (!STEP_ACTIVATIONS.includes(fn)) return undefined;
      return ([x]) => {
        const a = applyActivation(x!, fn);
        return { y: a, backward: (dy) => [activationGrad(dy, a, fn)] };
      };
    },
  }),
};
