// Kernel of op `separable_conv2d`: h = depthwiseConv(x, D), y = activation(h x P + b) over NHWC (P the 1x1
// pointwise kernel). Its step keeps h: the pointwise gradients are matMuls over the pixels (dP = h^T dz,
// dh = dz P^T), the depthwise ones those of src/kernels/depthwise-grads.ts.
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, LayerOf } from "../ir/schema.ts";
import { applyActivation } from "../lower/activations.ts";
import { channelMeans } from "../lower/channel-ops.ts";
import { activationGrad, stepCovers } from "./activation.ts";
import { depthwiseFilterGrad, depthwiseInputGrad } from "./depthwise-grads.ts";
import { activationParams } from "../ops/activations/index.ts";
import type { KernelDefinition } from "./kernel.ts";
import { kernelWeights } from "./weighted.ts";

type SeparableNode = LayerOf<"separable_conv2d">;

export const separableConv2d: KernelDefinition<SeparableNode> = {
  op: "separable_conv2d",
  lower(node, ctx) {
    const [kh, kw] = node.kernelSize;
    const channels = ctx.inputShapes[0]!.at(-1)!;
    const middle = channels * node.depthMultiplier;
    // Keras' order: depthwise_kernel, pointwise_kernel, bias.
    const depthwise = ctx.kernel(
      "depthwise_kernel",
      [kh, kw, channels, node.depthMultiplier],
      node.kernelInitializer,
    );
    const w = kernelWeights(node, ctx, [1, 1, middle, node.filters], node.filters, "pointwise_kernel");
    const dk = depthwise as tf.Tensor4D;
    const pk = w.kernel as tf.Tensor4D;
    const forward = (x: tf.Tensor, bias: tf.Tensor | undefined, activation: Activation) => {
      const z = tf.separableConv2d(x as tf.Tensor4D, dk, pk, node.strides, node.padding);
      return applyActivation(bias ? tf.add(z, bias) : z, activation, activationParams(node));
    };
    return {
      forward: ([x], o, linear) => forward(x!, w.biasFor(o.training), linear ? "linear" : node.activation),
      stage({ logits }) {
        const activation = logits ? "linear" : node.activation;
        if (!stepCovers(activation)) return undefined;
        return ([x]) => {
          // Reshaped at each step: a reshape taken once would keep the values before the optimizer's update.
          const pointwise = tf.reshape(pk, [middle, node.filters]) as tf.Tensor2D;
          const h = tf.depthwiseConv2d(x as tf.Tensor4D, dk, node.strides, node.padding);
          const rows = h.size / middle;
          const z = tf.reshape(tf.matMul(tf.reshape(h, [rows, middle]) as tf.Tensor2D, pointwise), [
            ...h.shape.slice(0, 3),
            node.filters,
          ]);
          const pre = w.trainingBias ? tf.add(z, w.trainingBias) : z;
          const a = applyActivation(pre, activation, activationParams(node));
          return {
            y: a,
            backward: (dy, grads, needDx) => {
              const dz = tf.reshape(activationGrad(dy, pre, a, activation, activationParams(node)), [
                rows,
                node.filters,
              ]) as tf.Tensor2D;
              const h2 = tf.reshape(h, [rows, middle]) as tf.Tensor2D;
              const pointwiseGrad = tf.reshape(tf.matMul(h2, dz, true, false), pk.shape);
              w.setGrads(grads, pointwiseGrad, () => tf.mul(channelMeans(dz), rows));
              const dh = tf.reshape(tf.matMul(dz, pointwise, false, true), h.shape) as tf.Tensor4D;
              grads[`${node.name}/depthwise_kernel`] = depthwiseFilterGrad(
                x as tf.Tensor4D,
                dh,
                dk.shape,
                node.strides,
                node.padding,
              );
              return needDx ? [depthwiseInputGrad(dh, dk, x!.shape, node)] : undefined;
            },
          };
        };
      },
    };
  },
};
