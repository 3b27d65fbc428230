// The gradients of a depthwise convolution (depthwise_conv2d, and the first half of separable_conv2d), in
// closed form from forward ops every backend has: tfjs-backend-wasm 4.22 has no
// DepthwiseConv2dNativeBackpropFilter / BackpropInput (src/runtime/wasm-kernels.ts registers these there), and
// the compiled step calls them directly. A depthwise kernel is [kh, kw, C, M]: output channel c * M + m is input
// channel c convolved with W[:, :, c, m].
import * as tf from "@tensorflow/tfjs-core";
import { patchesOf, transposedInput } from "./conv-grads.ts";

type Shape4 = [number, number, number, number];
type Padding = "valid" | "same";

/**
 * dW[p, q, c, m] = sum over n, i, j of xPadded[n, i*s + p, j*s + q, c] * dz[n, i, j, c*M + m]. The patches
 * xPadded[n, i*s + p, j*s + q, c] (channel c*taps + t for tap t = p*kw + q) are conv-grads.ts' patchesOf, then per channel
 * patches^T x dz: a batched matMul over the channels, [C, taps, rows] x [C, rows, M].
 */
export function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dz: tf.Tensor4D,
  filterShape: Shape4 | number[],
  strides: [number, number],
  padding: Padding,
): tf.Tensor4D {
  const [kh, kw, channels, multiplier] = filterShape as Shape4;
  const taps = kh * kw;
  const patches = patchesOf(x, { kernelSize: [kh, kw], strides, padding });
  const rows = dz.shape[0] * dz.shape[1] * dz.shape[2];
  const p = tf.transpose(tf.reshape(patches, [rows, channels, taps]), [1, 0, 2]) as tf.Tensor3D;
  const d = tf.transpose(tf.reshape(dz, [rows, channels, multiplier]), [1, 0, 2]) as tf.Tensor3D;
  const g = tf.matMul(p, d, true, false); // [C, taps, M]
  return tf.reshape(tf.transpose(g, [1, 0, 2]), [kh, kw, channels, multiplier]) as tf.Tensor4D;
}

/**
 * dx: the stride-1 depthwise convolution of dz (dilated by the stride, padded to x's size: conv-grads.ts) with
 * the kernel flipped in space, each of dz's C*M channels with its own filter, then the M channels that came from
 * one input channel summed.
 */
export function depthwiseInputGrad(
  dz: tf.Tensor4D,
  kernel: tf.Tensor4D,
  xShape: Shape4 | number[],
  node: { kernelSize: [number, number]; strides: [number, number]; padding: Padding },
): tf.Tensor4D {
  const [kh, kw, channels, multiplier] = kernel.shape;
  const { dilated, pads } = transposedInput(dz, xShape, node);
  const flipped = tf.reshape(tf.reverse(kernel, [0, 1]), [kh, kw, channels * multiplier, 1]) as tf.Tensor4D;
  const full = tf.depthwiseConv2d(dilated, flipped, 1, pads);
  if (multiplier === 1) return full;
  const [n, h, w] = full.shape;
  return tf.sum(tf.reshape(full, [n, h, w, channels, multiplier]), 4) as tf.Tensor4D;
}
