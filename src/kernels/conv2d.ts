// Kernel of op `conv2d`: y = activation(conv(x, W) + b) over NHWC. Its step computes the filter gradient with
// nnc's SIMD kernel where it applies and the input gradient as a forward convolution (wasm's fast XNNPACK
// paths; Conv2DBackpropInput is a scalar loop there): src/kernels/conv-grads.ts, which also computes a dilated
// convolution's gradients (tfjs' have no dilation).
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, LayerOf } from "../ir/schema.ts";
import { applyActivation, fusable } from "../lower/activations.ts";
import { channelMeans } from "../lower/channel-ops.ts";
import { activationGrad, stepCovers } from "./activation.ts";
import { convFilterGrad, convInputGrad, dilatedConv2d } from "./conv-grads.ts";
import { activationParams } from "../ops/activations/index.ts";
import type { KernelDefinition } from "./kernel.ts";
import { kernelWeights } from "./weighted.ts";

type Conv2dNode = LayerOf<"conv2d">;

function conv2dForward(
  x: tf.Tensor,
  kernel: tf.Variable,
  bias: tf.Variable | undefined,
  node: Conv2dNode,
  activation: Activation,
  training: boolean,
): tf.Tensor {
  const x4 = x as tf.Tensor4D;
  const k = kernel as tf.Tensor4D;
  const dilations = node.dilation ?? [1, 1];
  if (!training && fusable(activation)) {
    return tf.fused.conv2d({
      x: x4,
      filter: k,
      strides: node.strides,
      pad: node.padding,
      dilations,
      bias,
      activation,
    });
  }
  // Autograd's filter gradient runs the Conv2DBackpropFilter kernel src/runtime/wasm-kernels.ts adds to wasm;
  // dilated, tfjs' Conv2D gradient throws, so autograd takes dilatedConv2d's (conv-grads.ts).
  const z = node.dilation ? dilatedConv2d(x4, k, node) : tf.conv2d(x4, k, node.strides, node.padding);
  return applyActivation(bias ? tf.add(z, bias) : z, activation, activationParams(node));
}

export const conv2d: KernelDefinition<Conv2dNode> = {
  op: "conv2d",
  lower(node, ctx) {
    const [kh, kw] = node.kernelSize;
    const channels = ctx.inputShapes[0]!.at(-1)!;
    const w = kernelWeights(node, ctx, [kh, kw, channels, node.filters], node.filters);
    const { kernel, trainingBias } = w;
    return {
      forward: ([x], o, linear) =>
        conv2dForward(
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
          const z = tf.conv2d(
            x as tf.Tensor4D,
            k,
            node.strides,
            node.padding,
            "NHWC",
            node.dilation ?? [1, 1],
          );
          const pre = trainingBias ? tf.add(z, trainingBias) : z;
          const a = applyActivation(pre, activation, activationParams(node));
          return {
            y: a,
            backward: (dy, grads, needDx) => {
              const dz = activationGrad(dy, pre, a, activation, activationParams(node)) as tf.Tensor4D;
              const kernelGrad = convFilterGrad(x as tf.Tensor4D, dz, k.shape, node);
              w.setGrads(grads, kernelGrad, () => tf.mul(channelMeans(dz), dz.size / dz.shape[3]));
              return needDx ? [convInputGrad(dz, k, x!.shape, node)] : undefined;
            },
          };
        };
      },
    };
  },
};
