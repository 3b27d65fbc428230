// Kernel of op `conv2d`: y = activation(conv(x, W) + b) over NHWC. Its step computes the filter gradient with
// nnc's SIMD kernel where it applies and the input gradient as a forward convolution (wasm's fast XNNPACK
// paths; Conv2DBackpropInput is a scalar loop there).
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, LayerOf } from "../ir/schema.ts";
import { applyActivation, fusable } from "../lower/activations.ts";
import { channelMeans } from "../lower/channel-ops.ts";
import { simdFilterGradient, type WasmBackend } from "../runtime/wasm-kernels.ts";
import { wasmHeap } from "../train/tensor-memory.ts";
import { activationGrad, stepCovers } from "./activation.ts";
import { transposedInput } from "./conv-grads.ts";
import type { KernelDefinition } from "./kernel.ts";
import { kernelWeights } from "./weighted.ts";

type Conv2dNode = LayerOf<"conv2d">;
type Shape4 = [number, number, number, number];

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
  if (!training && fusable(activation)) {
    return tf.fused.conv2d({ x: x4, filter: k, strides: node.strides, pad: node.padding, bias, activation });
  }
  // Autograd's filter gradient runs the Conv2DBackpropFilter kernel src/runtime/wasm-kernels.ts adds to wasm.
  const z = tf.conv2d(x4, k, node.strides, node.padding);
  return applyActivation(bias ? tf.add(z, bias) : z, activation);
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
          const z = tf.conv2d(x as tf.Tensor4D, k, node.strides, node.padding);
          const pre = trainingBias ? tf.add(z, trainingBias) : z;
          const a = applyActivation(pre, activation);
          return {
            y: a,
            backward: (dy, grads, needDx) => {
              const dz = activationGrad(dy, pre, a, activation) as tf.Tensor4D;
              const kernelGrad = conv2dFilterGrad(x as tf.Tensor4D, dz, k.shape, node);
              w.setGrads(grads, kernelGrad, () => tf.mul(channelMeans(dz), dz.size / dz.shape[3]));
              return needDx ? [conv2dInputGrad(dz, k, x!.shape as Shape4, node)] : undefined;
            },
          };
        };
      },
    };
  },
};

/**
 * dW of a conv2d: the backend's Conv2DBackpropFilter (on wasm the kernel src/runtime/wasm-kernels.ts adds: a SIMD
 * implicit GEMM for filter counts that are multiples of 8), except for one input channel where that is not
 * available, where it is patches^T x dz: the patches [M, kh*kw] from one depthwise convolution with one-hot
 * filters, transposed (cheap at kh*kw columns) and multiplied flag-free. On wasm without the SIMD kernel, at
 * [128, 28, 28, 1] -> 16: 6.9 ms against 12.2 ms for the dilated-convolution form, most of whose time is XNNPACK
 * packing dz (784 x 128 x 16 values) as weights; the SIMD kernel takes 2.1 ms there. With more input channels
 * the patches grow kh*kw-fold and the kernel wins (measured at 16 channels: 32 ms against 14 ms).
 */
function conv2dFilterGrad(x: tf.Tensor4D, dz: tf.Tensor4D, filterShape: Shape4, node: Conv2dNode) {
  const [kh, kw, ci, co] = filterShape;
  const simd = tf.getBackend() === "wasm" && simdFilterGradient(tf.backend() as WasmBackend, co);
  if (ci === 1 && !simd) {
    const taps = kh * kw;
    const oneHot = new Float32Array(taps * taps);
    for (let k = 0; k < taps; k++) oneHot[k * taps + k] = 1; // filter [kh, kw, 1, taps]: tap k -> channel k
    const patches = tf.depthwiseConv2d(x, tf.tensor4d(oneHot, [kh, kw, 1, taps]), node.strides, node.padding);
    const patchesT = tf.transpose(tf.reshape(patches, [-1, taps])) as tf.Tensor2D;
    return tf.reshape(
      tf.matMul(patchesT, tf.reshape(dz, [-1, co]) as tf.Tensor2D),
      filterShape,
    ) as tf.Tensor4D;
  }
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz }, {
    strides: node.strides,
    pad: node.padding,
    dataFormat: "NHWC",
    dimRoundingMode: undefined,
    filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * dx of a conv2d: a forward convolution of dz with the kernel flipped in space and its channel axes swapped,
 * which on wasm takes XNNPACK's fast path (Conv2DBackpropInput is a scalar loop there: at stride 2 it was 61 ms
 * of a 235 ms residual-network step at batch 64). dz is dilated and padded as src/kernels/conv-grads.ts says.
 */
function conv2dInputGrad(dz: tf.Tensor4D, kernel: tf.Tensor4D, xShape: Shape4, node: Conv2dNode) {
  const { dilated, pads } = transposedInput(dz, xShape, node);
  return tf.conv2d(dilated, flippedKernel(kernel), 1, pads);
}

/**
 * A conv kernel [kh, kw, ci, co] flipped in space with its channel axes swapped: [kh, kw, co, ci]. On wasm one
 * JS pass over the heap (convnet-bn's 4,608 values: ~0.01 ms), where tf.reverse is a generic loop (0.13 ms).
 */
function flippedKernel(kernel: tf.Tensor4D): tf.Tensor4D {
  const heap = wasmHeap();
  if (!heap) return tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]);
  const [kh, kw, ci, co] = kernel.shape;
  const out = heap.allocate([kh, kw, co, ci]);
  // Views after the allocation: a heap that grows detaches older ones.
  const from = heap.view(kernel);
  const to = heap.view(out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const source = (i * kw + j) * ci * co;
      const target = ((kh - 1 - i) * kw + (kw - 1 - j)) * co * ci;
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) to[target + o * ci + c] = from[source + c * co + o]!;
      }
    }
  }
  return tf.engine().makeTensorFromTensorInfo(out, tf.backend()) as tf.Tensor4D;
}
