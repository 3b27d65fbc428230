// Kernel of op `depthwise_conv2d`: y = activation(depthwiseConv(x, W) + b) over NHWC. Its step takes the closed-
// form gradients of src/kernels/depthwise-grads.ts (the filter's from one-hot patches, the input's as the
// flipped kernel over the dilated dz).
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, LayerOf } from "../ir/schema.ts";
import { applyActivation, fusable } from "../lower/activations.ts";
import { channelMeans } from "../lower/channel-ops.ts";
import { activationGrad, stepCovers } from "./activation.ts";
import { depthwiseFilterGrad, depthwiseInputGrad } from "./depthwise-grads.ts";
import { activationParams } from "../ops/activations/index.ts";
import type { KernelDefinition } from "./kernel.ts";
import { kernelWeights } from "./weighted.ts";

type DepthwiseNode = LayerOf<"depthwise_conv2d">;

function depthwiseForward(
  x: tf.Tensor,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  node: DepthwiseNode,
  activation: Activation,
  training: boolean,
): tf.Tensor {
  const x4 = x as tf.Tensor4D;
  const k = kernel as tf.Tensor4D;
  if (!training && fusable(activation)) {
    return tf.fused.depthwiseConv2d({
      x: x4,
      filter: k,
      strides: node.strides,
      pad: node.padding,
      bias,
      activation,
    });
  }
  const z = tf.depthwiseConv2d(x4, k, node.strides, node.padding);
  return applyActivation(bias ? tf.add(z, bias) : z, activation, activationParams(node));
}

export const depthwiseConv2d: KernelDefinition<DepthwiseNode> = {
  op: "depthwise_conv2d",
  lower(node, ctx) {
    const [kh, kw] = node.kernelSize;
    const channels = ctx.inputShapes[0]!.at(-1)!;
    const m = node.depthMultiplier;
    const w = kernelWeights(node, ctx, [kh, kw, channels, m], channels * m, "depthwise_kernel");
    const { kernel, trainingBias } = w;
    return {
      forward: ([x], o, linear) =>
        depthwiseForward(
          x!,
          kernel,
          w.biasFor(o.training),
          node,
          linear ? "linear" : node.activation,
          o.training,
        ),
      stage({ logits }) {
        const activation = logits ? "linear" : node.activation;
        if (!stepCovers(activation)) return undefined;
        const k = kernel as tf.Tensor4D;
        return ([x]) => {
          const z = tf.depthwiseConv2d(x as tf.Tensor4D, k, node.strides, node.padding);
          const pre = trainingBias ? tf.add(z, trainingBias) : z;
          const a = applyActivation(pre, activation, activationParams(node));
          return {
            y: a,
            backward: (dy, grads, needDx) => {
              const dz = activationGrad(dy, pre, a, activation, activationParams(node)) as tf.Tensor4D;
              const kernelGrad = depthwiseFilterGrad(
                x as tf.Tensor4D,
                dz,
                k.shape,
                node.strides,
                node.padding,
              );
              w.setGrads(grads, kernelGrad, () => tf.mul(channelMeans(dz), dz.size / dz.shape[3]));
              return needDx ? [depthwiseInputGrad(dz, k, x!.shape, node)] : undefined;
            },
          };
        };
      },
    };
  },
};
