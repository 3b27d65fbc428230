// What the convolutions' gradients share (conv2d, conv1d, depthwise_conv2d, separable_conv2d): the gradient of a
// strided, padded, dilated convolution with respect to its input is a stride-1 convolution of dz, dilated by the
// stride, with the kernel flipped in space (at the same dilation); with respect to its kernel, x's patches
// against dz. Here: both gradients of a convolution (convInputGrad, convFilterGrad), dilated or not, and
// dilatedConv2d, a convolution whose autograd uses them: tfjs' Conv2D gradient refuses dilation > 1.
import * as tf from "@tensorflow/tfjs-core";
import { simdFilterGradient, type WasmBackend } from "../runtime/wasm-kernels.ts";
import { wasmHeap } from "../train/tensor-memory.ts";

type Shape4 = [number, number, number, number];
type Pads = [[number, number], [number, number], [number, number], [number, number]];

/** A 2-D convolution's window, as the kernels see it (conv1d's is [1, K] over [batch, 1, steps, channels]). */
export interface ConvGeometry {
  kernelSize: [number, number];
  strides: [number, number];
  padding: "valid" | "same";
  dilation?: [number, number];
}

const dilated = (g: ConvGeometry): boolean => (g.dilation ?? [1, 1]).some((d) => d > 1);

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
  node: ConvGeometry,
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

/**
 * Patches of x for a window of `kernelSize` taps: [n, h', w', C * taps], channel c * taps + t holding
 * xPadded[n, i*s + p*d, j*s + q*d, c] for tap t = p*kw + q, so they line up with the output at (i, j). One
 * depthwise convolution with one-hot filters, at the forward's stride, padding and dilation.
 */
export function patchesOf(x: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [kh, kw] = g.kernelSize;
  const channels = x.shape[3];
  const taps = kh * kw;
  const oneHot = new Float32Array(taps * channels * taps);
  for (let t = 0; t < taps; t++) for (let c = 0; c < channels; c++) oneHot[(t * channels + c) * taps + t] = 1;
  const filter = tf.tensor4d(oneHot, [kh, kw, channels, taps]);
  return tf.depthwiseConv2d(x, filter, g.strides, g.padding, "NHWC", g.dilation ?? [1, 1]);
}

/**
 * dW of a convolution (kernel [kh, kw, ci, co]): the backend's Conv2DBackpropFilter (on wasm the kernel
 * src/runtime/wasm-kernels.ts adds: a SIMD implicit GEMM for filter counts that are multiples of 8), except where
 * that is not available or not right: one input channel without the SIMD kernel, and any dilation (tfjs'
 * Conv2DBackpropFilter has no dilations). There it is patches^T x dz (patchesOf; the transposed side cheap at
 * ci*kh*kw columns), multiplied flag-free. On wasm without the SIMD kernel, at [128, 28, 28, 1] -> 16: 6.9 ms
 * against 12.2 ms for the dilated-convolution form, most of whose time is XNNPACK packing dz (784 x 128 x 16
 * values) as weights; the SIMD kernel takes 2.1 ms there. With more input channels the patches grow kh*kw-fold
 * and the kernel wins (measured at 16 channels: 32 ms against 14 ms).
 */
export function convFilterGrad(
  x: tf.Tensor4D,
  dz: tf.Tensor4D,
  filterShape: Shape4,
  g: ConvGeometry,
): tf.Tensor4D {
  const [kh, kw, ci, co] = filterShape;
  const simd = tf.getBackend() === "wasm" && simdFilterGradient(tf.backend() as WasmBackend, co);
  if (dilated(g) || (ci === 1 && !simd)) {
    const taps = kh * kw;
    const patches = tf.reshape(patchesOf(x, g), [-1, ci * taps]);
    const g2 = tf.matMul(tf.transpose(patches) as tf.Tensor2D, tf.reshape(dz, [-1, co]) as tf.Tensor2D);
    // Rows are c * taps + t: [ci, kh, kw, co] -> HWIO.
    return (
      ci === 1 ? tf.reshape(g2, filterShape) : tf.transpose(tf.reshape(g2, [ci, kh, kw, co]), [1, 2, 0, 3])
    ) as tf.Tensor4D;
  }
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz }, {
    strides: g.strides,
    pad: g.padding,
    dataFormat: "NHWC",
    dimRoundingMode: undefined,
    filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * dx of a convolution: a forward convolution of dz with the kernel flipped in space and its channel axes
 * swapped, at the forward's dilation, which on wasm takes XNNPACK's fast path (Conv2DBackpropInput is a scalar
 * loop there: at stride 2 it was 61 ms of a 235 ms residual-network step at batch 64). dz is dilated by the
 * stride and padded as transposedInput says.
 */
export function convInputGrad(
  dz: tf.Tensor4D,
  kernel: tf.Tensor4D,
  xShape: Shape4 | number[],
  g: ConvGeometry,
): tf.Tensor4D {
  const { dilated: spread, pads } = transposedInput(dz, xShape, g);
  return tf.conv2d(spread, flippedKernel(kernel), 1, pads, "NHWC", g.dilation ?? [1, 1]);
}

/**
 * conv2d(x, kernel) at the geometry's stride, padding and dilation, whose gradients (for autograd) are
 * convInputGrad and convFilterGrad: tfjs-core's Conv2D gradient throws for dilation > 1 ("dilation rates
 * greater than 1 are not yet supported in gradients"), so a dilated convolution trained by autograd takes this.
 */
export function dilatedConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  // tfjs' customGrad passes the inputs then `save` as one rest list.
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, k, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xs, k]);
    return {
      value: tf.conv2d(xs, k, g.strides, g.padding, "NHWC", g.dilation ?? [1, 1]),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs2, k2] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dz = dy as tf.Tensor4D;
        return [convInputGrad(dz, k2, xs2.shape, g), convFilterGrad(xs2, dz, k2.shape, g)];
      },
    };
  });
  return f(x, kernel) as tf.Tensor4D;
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
