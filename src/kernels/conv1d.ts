// Kernel of op `conv1d`: y = activation(conv(x, W) + b) over [batch, steps, channels], as a conv2d over
// [batch, 1, steps, channels] with W [K, channels, FILTERS] seen as [1, K, channels, FILTERS] (what tfjs-core's
// conv1d does). Its step takes conv2d's gradients (src/kernels/conv-grads.ts), dilated ones included; autograd
// of a dilated conv1d goes through dilatedConv2d, since tfjs' Conv2D gradient refuses dilation > 1.
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, LayerOf } from "../ir/schema.ts";
import { applyActivation, fusable } from "../lower/activations.ts";
import { activationParams } from "../ops/activations/index.ts";
import { channelMeans } from "../lower/channel-ops.ts";
import { activationGrad, stepCovers } from "./activation.ts";
import { convFilterGrad, convInputGrad, dilatedConv2d, type ConvGeometry } from "./conv-grads.ts";
import type { KernelDefinition } from "./kernel.ts";
import { kernelWeights } from "./weighted.ts";

type Conv1dNode = LayerOf<"conv1d">;

/** The node's window as a 2-D convolution's over [batch, 1, steps, channels]. */
const geometryOf = (node: Conv1dNode): ConvGeometry => ({
  kernelSize: [1, node.kernelSize],
  strides: [1, node.strides],
  padding: node.padding,
  dilation: [1, node.dilation],
});

/** [batch, steps, channels] as [batch, 1, steps, channels]. */
const asImage = (x: tf.Tensor): tf.Tensor4D => tf.expandDims(x, 1) as tf.Tensor4D;

export const conv1d: KernelDefinition<Conv1dNode> = {
  op: "conv1d",
  lower(node, ctx) {
    const channels = ctx.inputShapes[0]!.at(-1)!;
    const w = kernelWeights(node, ctx, [node.kernelSize, channels, node.filters], node.filters);
    const g = geometryOf(node);
    // Reshaped at each call: a reshape taken once would keep the values before the optimizer's update.
    const kernel4 = () => tf.reshape(w.kernel, [1, node.kernelSize, channels, node.filters]) as tf.Tensor4D;
    const forward = (
      x: tf.Tensor,
      bias: tf.Variable | undefined,
      activation: Activation,
      training: boolean,
    ) => {
      const x4 = asImage(x);
      if (!training && fusable(activation)) {
        const y = tf.fused.conv2d({
          x: x4,
          filter: kernel4(),
          strides: g.strides,
          pad: g.padding,
          dilations: g.dilation,
          bias,
          activation,
        });
        return tf.squeeze(y, [1]);
      }
      const z =
        node.dilation > 1 ? dilatedConv2d(x4, kernel4(), g) : tf.conv2d(x4, kernel4(), g.strides, g.padding);
      const z3 = tf.squeeze(z, [1]);
      return applyActivation(bias ? tf.add(z3, bias) : z3, activation, activationParams(node));
    };
    return {
      forward: ([x], o, linear) =>
        forward(x!, w.biasFor(o.training), linear ? "linear" : node.activation, o.training),
      stage({ logits }) {
        const activation = logits ? "linear" : node.activation;
        if (!stepCovers(activation)) return undefined;
        return ([x]) => {
          const x4 = asImage(x!);
          const k = kernel4();
          const z = tf.squeeze(tf.conv2d(x4, k, g.strides, g.padding, "NHWC", g.dilation), [1]);
          const pre = w.trainingBias ? tf.add(z, w.trainingBias) : z;
          const a = applyActivation(pre, activation, activationParams(node));
          return {
            y: a,
            backward: (dy, grads, needDx) => {
              const dz = tf.expandDims(
                activationGrad(dy, pre, a, activation, activationParams(node)),
                1,
              ) as tf.Tensor4D;
              const kernelGrad = tf.reshape(convFilterGrad(x4, dz, k.shape, g), w.kernel.shape);
              w.setGrads(grads, kernelGrad, () => tf.mul(channelMeans(dz), dz.size / node.filters));
              return needDx ? [tf.squeeze(convInputGrad(dz, k, x4.shape, g), [1])] : undefined;
            },
          };
        };
      },
    };
  },
};
