// Kernel of op `dense`: y = activation(x W + b) on [batch, features]. Its step runs no matmul with a transpose
// flag (on wasm XNNPACK's is a scalar loop: docs/speed.md): x^T dz is nnc's kernel from 128 rows, else and for
// W^T the transposes are materialised.
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, LayerOf } from "../ir/schema.ts";
import { applyActivation, fusable } from "../lower/activations.ts";
import { matMul as simdMatMul, matMulTransposeA, simdMatMulFits } from "../runtime/simd-ops.ts";
import { activationGrad, stepCovers } from "./activation.ts";
import { activationParams, type ActivationParams } from "../ops/activations/index.ts";
import type { KernelDefinition } from "./kernel.ts";
import { kernelWeights } from "./weighted.ts";

/**
 * Dense: y = activation(x W + b). Under a gradient tape plain matMul + add (a fused matMul's gradient is only
 * fused with a linear activation, and computes the unused input gradient of the first layer on wasm's slow
 * transposed path); in inference nnc's SIMD GEMM where it runs (see simdInference), else the fused kernel.
 */
function denseForward(
  x: tf.Tensor,
  kernel: tf.Variable,
  bias: tf.Variable | undefined,
  activation: Activation,
  params: ActivationParams,
  training: boolean,
): tf.Tensor {
  if (!training && simdInference(kernel)) {
    return applyActivation(simdMatMul(x as tf.Tensor2D, kernel as tf.Tensor2D, bias), activation, params);
  }
  if (!training && fusable(activation)) {
    return tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias, activation });
  }
  const z = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  return applyActivation(bias ? tf.add(z, bias) : z, activation, params);
}

/**
 * Whether inference takes nnc's SIMD GEMM (simd-ops matMul): wasm with SIMD and units a multiple of 8 (the
 * widths its kernel takes; elsewhere matMul falls back to matMul + add, which rounds the bias differently from
 * the fused kernel kept there), and no gradient tape recording (its output records no gradient: a caller's
 * tf.grad through predict keeps tf's ops). Same values as XNNPACK's fused matmul, bit for bit (both sum each
 * output from the bias in k order); [1000, 784] x [784, 128], the exact batch-norm statistics' batch of
 * Fashion-MNIST: 5.4-6.2 ms against 7.1-7.4 ms (wasm, load ~1).
 */
function simdInference(kernel: tf.Variable): boolean {
  const units = kernel.shape[1]!;
  return simdMatMulFits(units) && !tf.engine().isTapeOn();
}

export const dense: KernelDefinition<LayerOf<"dense">> = {
  op: "dense",
  lower(node, ctx) {
    const w = kernelWeights(node, ctx, [ctx.inputShapes[0]!.at(-1)!, node.units], node.units);
    const { kernel, trainingBias } = w;
    return {
      forward: ([x], o, linear) =>
        denseForward(
          x!,
          kernel,
          w.biasFor(o.training),
          linear ? "linear" : node.activation,
          activationParams(node),
          o.training,
        ),
      stage({ logits }) {
        const activation = logits ? "linear" : node.activation;
        if (!stepCovers(activation)) return undefined;
        const k = kernel as tf.Tensor2D;
        return ([x]) => {
          const z = simdMatMul(x as tf.Tensor2D, k, trainingBias);
          const a = applyActivation(z, activation, activationParams(node));
          return {
            y: a,
            backward: (dy, grads, needDx) => {
              const dz = activationGrad(dy, z, a, activation, activationParams(node));
              // x^T dz on nnc's kernel from 128 rows, else (and W^T) materialised transposes: flag-free matmuls
              // take wasm's fast path.
              const kernelGrad = matMulTransposeA(x as tf.Tensor2D, dz as tf.Tensor2D);
              w.setGrads(grads, kernelGrad, () => tf.sum(dz, 0));
              return needDx ? [simdMatMul(dz as tf.Tensor2D, tf.transpose(k))] : undefined;
            },
          };
        };
      },
    };
  },
};
