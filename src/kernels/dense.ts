// Kernel of op `dense`: y = activation(x W + b) on [batch, features]. Its step materialises the transposes of
// the backward's matmuls, so every matmul takes wasm's fast path (with a transpose flag XNNPACK's matmul is a
// scalar loop: docs/speed.md).
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, LayerOf } from "../ir/schema.ts";
import { applyActivation, fusable } from "../lower/activations.ts";
import { matMul as simdMatMul } from "../runtime/simd-ops.ts";
import { activationGrad, STEP_ACTIVATIONS } from "./activation.ts";
import type { KernelDefinition } from "./kernel.ts";

/**
 * Dense: y = activation(x W + b). Under a gradient tape plain matMul + add (a fused matMul's gradient is only
 * fused with a linear activation, and computes the unused input gradient of the first layer on wasm's slow
 * transposed path); in inference the fused kernel.
 */
function denseForward(
  x: tf.Tensor,
  kernel: tf.Variable,
  bias: tf.Variable | undefined,
  activation: Activation,
  training: boolean,
): tf.Tensor {
  if (!training && fusable(activation)) {
    return tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias, activation });
  }
  const z = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  return applyActivation(bias ? tf.add(z, bias) : z, activation);
}

export const dense: KernelDefinition<LayerOf<"dense">> = {
  op: "dense",
  lower(node, ctx) {
    const kernel = ctx.kernel("kernel", [ctx.inputShapes[0]!.at(-1)!, node.units], node.kernelInitializer);
    const bias = node.useBias ? ctx.bias(node.units) : undefined;
    // A bias the batchnorm after it absorbs is not added in training (Network.absorbedBiases).
    const trainingBias = bias?.absorbed ? undefined : bias?.variable;
    const names = { kernel: `${node.name}/kernel`, bias: `${node.name}/bias` };
    return {
      forward: ([x], o, linear) =>
        denseForward(
          x!,
          kernel,
          o.training ? trainingBias : bias?.variable,
          linear ? "linear" : node.activation,
          o.training,
        ),
      stage({ logits }) {
        const activation = logits ? "linear" : node.activation;
        if (!STEP_ACTIVATIONS.includes(activation)) return undefined;
        const k = kernel as tf.Tensor2D;
        return ([x]) => {
          const a = applyActivation(simdMatMul(x as tf.Tensor2D, k, trainingBias), activation);
          return {
            y: a,
            backward: (dy, grads, needDx) => {
              const dz = activationGrad(dy, a, activation);
              // Materialised transposes: flag-free matmuls take wasm's fast path.
              grads[names.kernel] = tf.matMul(tf.transpose(x!) as tf.Tensor2D, dz as tf.Tensor2D);
              if (trainingBias) grads[names.bias] = tf.sum(dz, 0);
              else if (bias) grads[names.bias] = tf.zerosLike(bias.variable); // absorbed: exactly 0
              return needDx ? [simdMatMul(dz as tf.Tensor2D, tf.transpose(k))] : undefined;
            },
          };
        };
      },
    };
  },
};
