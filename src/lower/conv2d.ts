// Lowering: conv2d for training with its own gradient: wasm has no Conv2DBackpropFilter kernel, so the kernel
// gradient is a forward convolution (XNNPACK on wasm) and the input gradient conv2dTranspose. Same values as
// tfjs' own gradient (test/lower/conv2d.test.ts compares them on cpu, which has the kernel).
import * as tf from "@tensorflow/tfjs-core";
import "./register-gradients.ts";

type Padding = "valid" | "same";

/** TensorFlow's 'same' padding: output ceil(in / stride), the odd pixel of padding at the bottom/right. */
function samePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * dW[kh, kw, ci, co] = sum over b, i, j of xpad[b, i*s + kh, j*s + kw, ci] * dy[b, i, j, co]: a convolution of
 * xpad seen as [ci, H, W, b] with dy seen as a [Ho, Wo, b, co] filter dilated by the stride.
 */
export function conv2dKernelGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kernelShape: [number, number, number, number],
  strides: [number, number],
  padding: Padding,
): tf.Tensor4D {
  const [kh, kw] = kernelShape;
  const [sh, sw] = strides;
  let xp = x;
  if (padding === "same") {
    const [top, bottom] = samePadding(x.shape[1], kh, sh);
    const [left, right] = samePadding(x.shape[2], kw, sw);
    if (top + bottom + left + right > 0)
      xp = tf.pad(x, [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ]);
  }
  const input = tf.transpose(xp, [3, 1, 2, 0]);
  const filter = tf.transpose(dy, [1, 2, 0, 3]);
  let out = tf.conv2d(input, filter, 1, "valid", "NHWC", [sh, sw]);
  // Rows/columns past the kernel exist when the padded input has a remainder the stride never reached.
  if (out.shape[1] !== kh || out.shape[2] !== kw) {
    out = tf.slice(out, [0, 0, 0, 0], [out.shape[0], kh, kw, out.shape[3]]);
  }
  return tf.transpose(out, [1, 2, 0, 3]);
}

/** conv2d (no bias, no activation) whose gradient runs on every backend, wasm included. */
export function conv2dTrainable(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  strides: [number, number],
  padding: Padding,
): tf.Tensor4D {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, ki, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xi, ki]);
    return {
      value: tf.conv2d(xi, ki, strides, padding),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, ks] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [
          tf.conv2dTranspose(dy, ks, xs.shape, strides, padding),
          conv2dKernelGrad(xs, dy, ks.shape, strides, padding),
        ];
      },
    };
  });
  return f(x, kernel) as tf.Tensor4D;
}
