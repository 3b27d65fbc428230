// Kernel of op `conv2d_transpose`: y = activation(conv2dTranspose(x, W) + b) over NHWC. No compiled-step stage:
// a network with it trains by autograd (tfjs' conv2dTranspose gradient: a conv2d for dx, Conv2DBackpropFilter for
// dW, which src/runtime/wasm-kernels.ts gives wasm).
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import { applyActivation } from "../lower/activations.ts";
import { deconvLength } from "../ops/conv2d_transpose.ts";
import { activationParams } from "../ops/activations/index.ts";
import type { KernelDefinition } from "./kernel.ts";
import { kernelWeights } from "./weighted.ts";

export const conv2dTranspose: KernelDefinition<LayerOf<"conv2d_transpose">> = {
  op: "conv2d_transpose",
  lower(node, ctx) {
    const [kh, kw] = node.kernelSize;
    const [height, width, channels] = ctx.inputShapes[0]! as [number, number, number];
    const w = kernelWeights(node, ctx, [kh, kw, node.filters, channels], node.filters);
    const out = [
      deconvLength(height, node.strides[0], kh, node.padding),
      deconvLength(width, node.strides[1], kw, node.padding),
      node.filters,
    ] as const;
    return {
      forward: ([x], o, linear) => {
        const x4 = x as tf.Tensor4D;
        const z = tf.conv2dTranspose(
          x4,
          w.kernel as tf.Tensor4D,
          [x4.shape[0], ...out],
          node.strides,
          node.padding,
        );
        const bias = w.biasFor(o.training);
        return applyActivation(
          bias ? tf.add(z, bias) : z,
          linear ? "linear" : node.activation,
          activationParams(node),
        );
      },
    };
  },
};
