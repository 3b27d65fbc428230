// What dense and the convolutions share: a kernel and an optional bias, and the rule for a bias that a batchnorm absorbs
// (Network.absorbedBiases): in training it is not added and its gradient is exactly 0; in inference it is.
import * as tf from "@tensorflow/tfjs-core";
import type { Initializer } from "../ir/schema.ts";
import type { LowerContext } from "./kernel.ts";

export interface KernelWeights {
  kernel: tf.Variable;
  /** The bias a step adds in training: absent without a bias, or where a batchnorm absorbs it. */
  trainingBias: tf.Variable | undefined;
  /** The bias added in `training` mode or not. */
  biasFor(training: boolean): tf.Variable | undefined;
  /** Sets the kernel's gradient, and the bias's: `biasGrad()` where trained, exactly 0 where absorbed. */
  setGrads(grads: Record<string, tf.Tensor>, kernelGrad: tf.Tensor, biasGrad: () => tf.Tensor): void;
}

export function kernelWeights(
  node: { name: string; useBias: boolean; kernelInitializer: Initializer },
  ctx: LowerContext,
  kernelShape: number[],
  units: number,
  /** The kernel's Keras name: `kernel`, a depthwise convolution's `depthwise_kernel`, ... */
  suffix = "kernel",
): KernelWeights {
  const kernel = ctx.kernel(suffix, kernelShape, node.kernelInitializer);
  const bias = node.useBias ? ctx.bias(units) : undefined;
  const trainingBias = bias?.absorbed ? undefined : bias?.variable;
  return {
    kernel,
    trainingBias,
    biasFor: (training) => (training ? trainingBias : bias?.variable),
    setGrads(grads, kernelGrad, biasGrad) {
      grads[`${node.name}/${suffix}`] = kernelGrad;
      if (trainingBias) grads[`${node.name}/bias`] = biasGrad();
      else if (bias) grads[`${node.name}/bias`] = tf.zerosLike(bias.variable);
    },
  };
}
