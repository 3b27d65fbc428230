// What the convolutions' input gradients share (conv2d, depthwise_conv2d, separable_conv2d): the gradient of a
// strided, padded convolution with respect to its input is a stride-1 convolution of dz, dilated by the stride,
// with the kernel flipped in space. Here: that dilation and the padding that makes the result x's size.
import * as tf from "@tensorflow/tfjs-core";
import { wasmHeap } from "../train/tensor-memory.ts";

type Shape4 = [number, number, number, number];
type Pads = [[number, number], [number, number], [number, number], [number, number]];

/**
 * dz of a convolution over x (window `kernelSize`, `strides`, `padding`, at `dilation`), dilated for the
 * stride-1 convolution with the flipped kernel that is its input gradient, and that convolution's explicit
 * padding. At stride s, dz gets s - 1 zeros between its values. Padded so the output has x's size: a forward pad
 * of p before the input means k - 1 - p before the dilated dz (k the dilated window's extent); after it,
 * whatever brings the output to x's size (the rows a valid window never reached get zeros). Explicit padding:
 * XNNPACK pads in its indirection buffer (a tf.pad copied dz first).
 */
export function transposedInput(
  dz: tf.Tensor4D,
  xShape: Shape4 | number[],
  node: {
    kernelSize: [number, number];
    strides: [number, number];
    padding: "valid" | "same";
    dilation?: [number, number];
  },
): { dilated: tf.Tensor4D; pads: Pads } {
  const [dilH, dilW] = node.dilation ?? [1, 1];
  const [kh, kw] = [(node.kernelSize[0] - 1) * dilH + 1, (node.kernelSize[1] - 1) * dilW + 1];
  const [sh, sw] = node.strides;
  const [, height, width] = xShape as Shape4;
  const [, h, w] = dz.shape;
  const before = (size: number, out: number, k: number, s: number) =>
    node.padding === "same" ? Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) : 0;
  const [dh, dw] = [(h - 1) * sh + 1, (w - 1) * sw + 1];
  const top = kh - 1 - before(height, h, kh, sh);
  const left = kw - 1 - before(width, w, kw, sw);
  const dilated = sh === 1 && sw === 1 ? dz : dilate(dz, sh, sw);
  return {
    dilated,
    pads: [
      [0, 0],
      [top, height + kh - 1 - dh - top],
      [left, width + kw - 1 - dw - left],
      [0, 0],
    ],
  };
}

/** dz [n, h, w, c] with s - 1 zeros between values along height and width: [n, (h-1)sh+1, (w-1)sw+1, c]. */
function dilate(dz: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, h, w, c] = dz.shape;
  const [dh, dw] = [(h - 1) * sh + 1, (w - 1) * sw + 1];
  const heap = wasmHeap();
  if (!heap) {
    // Each value followed by its zeros, then the trailing zeros cut: plain tf ops, for the other backends.
    const spread = tf.pad(tf.reshape(dz, [n, h, 1, w, 1, c]), [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    return tf.slice(tf.reshape(spread, [n, h * sh, w * sw, c]), [0, 0, 0, 0], [n, dh, dw, c]) as tf.Tensor4D;
  }
  const out = heap.allocate([n, dh, dw, c]);
  // Views after the allocation: a heap that grows detaches older ones.
  const from = heap.view(dz);
  const to = heap.view(out);
  to.fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const source = ((b * h + i) * w + j) * c;
        to.set(from.subarray(source, source + c), ((b * dh + i * sh) * dw + j * sw) * c);
      }
    }
  }
  return tf.engine().makeTensorFromTensorInfo(out, tf.backend()) as tf.Tensor4D;
}
