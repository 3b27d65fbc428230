// Lowering: per-channel reductions and scale-and-shift of NHWC tensors (every axis but the last reduced or
// broadcast), used by the compiled training step and the exact population statistics. On wasm with SIMD (and
// channels a multiple of 4) each is one pass of src/runtime/simd-kernels.wat; elsewhere, tf ops in the forms
// wasm runs fast (XNNPACK's average pooling and depthwise convolution), where tfjs' Mean/Sum over axes [0, 1, 2]
// and [C]-broadcasting multiplies are generic loops. Measured on wasm at [32, 28, 28, 16] (convnet-bn's first
// batchnorm at batch 32): its forward 0.43 -> ~0.1 ms, its backward 0.6 -> ~0.15 ms.
import * as tf from "@tensorflow/tfjs-core";
import { channelAffineSimd, channelMeansSimd, type AffineOptions } from "../runtime/simd-ops.ts";

/**
 * Per-channel means of t (over every axis but the last) as one average pooling of t viewed as [1, M, 1, C] with
 * an [M, 1] window: XNNPACK on wasm, where Mean and Sum over axes [0, 1, 2] transpose and loop (measured at
 * [128, 28, 28, 16]: ~0.2 ms against 2.2-2.6 ms; a matMul of a ones row against t as [M, C] takes ~4 ms, XNNPACK
 * packing t as the weights of a fresh matmul every time).
 */
export function channelMeans(t: tf.Tensor): tf.Tensor1D {
  const simd = channelMeansSimd(t);
  if (simd) {
    simd.productMean.dispose();
    return simd.mean;
  }
  const c = t.shape.at(-1)!;
  const m = t.size / c;
  return tf.reshape(tf.avgPool(tf.reshape(t, [1, m, 1, c]) as tf.Tensor4D, [m, 1], 1, "valid"), [c]);
}

/**
 * Per-channel means of a and of a * b, in one pass where it can; with a gate (a relu's output), of a times that
 * relu's derivative (gate > 0) instead of a.
 */
export function channelMeansOfProduct(
  a: tf.Tensor,
  b: tf.Tensor,
  gate?: tf.Tensor,
): [tf.Tensor1D, tf.Tensor1D] {
  const simd = channelMeansSimd(a, { u: b, ...(gate ? { gate } : {}) });
  if (simd) return [simd.mean, simd.productMean];
  const gated = gate ? tf.mul(a, tf.step(gate)) : a;
  return [channelMeans(gated), channelMeans(tf.mul(gated, b))];
}

/**
 * The per-channel mean of (t - mean)^2 and, unless keep is false, t - mean itself (exactly), in one pass where it
 * can.
 */
export function channelCentered(
  t: tf.Tensor,
  mean: tf.Tensor,
  { keep = true }: { keep?: boolean } = {},
): { centered?: tf.Tensor; meanSquare: tf.Tensor1D } {
  const simd = channelMeansSimd(t, { shift: mean, keep });
  if (simd) {
    simd.mean.dispose();
    return { ...(simd.centered ? { centered: simd.centered } : {}), meanSquare: simd.productMean };
  }
  const centered = channelAffine(t, tf.onesLike(mean), { shift: tf.neg(mean) }); // t * 1 - mean: exactly t - mean
  const meanSquare = tf.tidy(() => channelMeans(tf.square(centered)));
  if (keep) return { centered, meanSquare };
  centered.dispose();
  return { meanSquare };
}

/**
 * t * scale + shift (+ plus.t * plus.scale) per channel of an NHWC t, then relu if asked; with a gate (a relu's
 * output), t counts only where the gate is positive (t times that relu's derivative). One SIMD pass, or
 * elsewhere one depthwise 1x1 convolution with a bias per term: XNNPACK on wasm, where a multiply or add
 * broadcasting a [C] vector is a generic loop (measured at [128, 28, 28, 16]: 0.3 ms against 1.2 ms for each of
 * the two broadcasts).
 */
export function channelAffine(t: tf.Tensor, scale: tf.Tensor, options: AffineOptions = {}): tf.Tensor {
  const simd = channelAffineSimd(t, scale, options);
  if (simd) return simd;
  const { shift, plus, relu = false, gate } = options;
  const depthwise = (x: tf.Tensor, s: tf.Tensor, bias?: tf.Tensor) =>
    tf.fused.depthwiseConv2d({
      x: x as tf.Tensor4D,
      filter: tf.reshape(s, [1, 1, x.shape[3]!, 1]) as tf.Tensor4D,
      strides: 1,
      pad: "valid",
      ...(bias ? { bias } : {}),
    });
  const first = depthwise(gate ? tf.mul(t, tf.step(gate)) : t, scale, shift);
  const sum = plus ? tf.add(first, depthwise(plus.t, plus.scale)) : first;
  return relu ? tf.relu(sum) : sum;
}

/**
 * Per-channel mean and biased variance of an NHWC t (two passes, as tf.moments). On wasm at [1000, 28, 28, 16]:
 * 9 ms against 112 ms for tf.moments with the tf-op forms, and closer to the float64 values (variance 7e-5
 * against 4e-4 relative).
 */
export function channelMoments(t: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const mean = channelMeans(t);
  return { mean, variance: channelCentered(t, mean, { keep: false }).meanSquare };
}
