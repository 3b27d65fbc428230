// Kernel of op `activation`: an elementwise activation as a node of its own (the activation's module,
// src/ops/activations/, holds its forward and derivative). The closed-form derivative serves dense and conv2d too.
import * as tf from "@tensorflow/tfjs-core";
import { activationParams } from "../ops/activation.ts";
import { activationOf, type ActivationParams } from "../ops/activations/index.ts";
import type { Activation, LayerOf } from "../ir/schema.ts";
import { applyActivation } from "../lower/activations.ts";
import type { KernelDefinition } from "./kernel.ts";

/** Whether the compiled step covers the activation (its module has a closed-form derivative). */
export const stepCovers = (activation: Activation): boolean => activationOf(activation).grad !== undefined;

/** dy times d activation / d input, from the activation's input `x` and output `y` (for a `stepCovers` one). */
export function activationGrad(
  dy: tf.Tensor,
  x: tf.Tensor,
  y: tf.Tensor,
  activation: Activation,
  params?: ActivationParams,
): tf.Tensor {
  const grad = activationOf(activation).grad;
  if (!grad) throw new Error(`internal: the compiled step has no derivative of '${activation}'`);
  return grad(tf, { dy, x, y }, params);
}

export const activation: KernelDefinition<LayerOf<"activation">> = {
  op: "activation",
  lower(node) {
    const params = activationParams(node);
    return {
      forward: ([x], _o, linear) => (linear ? x! : applyActivation(x!, node.activation, params)),
      stage({ logits }) {
        const fn = logits ? "linear" : node.activation;
        if (!stepCovers(fn)) return undefined;
        return ([x]) => {
          const y = applyActivation(x!, fn, params);
          return { y, backward: (dy) => [activationGrad(dy, x!, y, fn, params)] };
        };
      },
    };
  },
};
