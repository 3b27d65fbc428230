// src/kernels/conv-grads.ts: a dilated convolution's own gradients (tfjs' Conv2D gradient refuses dilation > 1)
// against an oracle that needs none: the same convolution undilated with the kernel zero-stuffed (d - 1 zeros
// between taps), differentiated by tfjs' own Conv2D gradient. dx must be equal, and dW equal to the stuffed
// kernel's gradient at the taps. Undilated, with strides, they equal tfjs' gradient of tf.conv2d directly.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  convFilterGrad,
  convInputGrad,
  dilatedConv2d,
  type ConvGeometry,
} from "../../src/kernels/conv-grads.ts";
import "../../src/lower/register-gradients.ts";
import { Random } from "../../src/util/random.ts";
import { closeness, useBackend, values } from "../lower/helpers.ts";

const G = suite("convolution gradients (conv-grads.ts)");

const seeded = (shape: number[], seed: number) => {
  const rng = new Random(seed);
  const data = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
  const t: tf.Tensor = tf.tensor(data, shape);
  return t as tf.Tensor4D;
};

/** The kernel [kh, kw, ci, co] with d - 1 zeros between taps: [(kh-1)dh+1, (kw-1)dw+1, ci, co]. */
function stuffed(kernel: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, ci, co] = kernel.shape;
  const [eh, ew] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const from = kernel.dataSync();
  const out = new Float32Array(eh * ew * ci * co);
  for (let p = 0; p < kh; p++)
    for (let q = 0; q < kw; q++)
      for (let k = 0; k < ci * co; k++)
        out[(p * dh * ew + q * dw) * ci * co + k] = from[(p * kw + q) * ci * co + k]!;
  return tf.tensor4d(out, [eh, ew, ci, co]);
}

/** The taps of a stuffed kernel's gradient: back to [kh, kw, ci, co]. */
function taps(grad: tf.Tensor4D, [kh, kw]: [number, number], [dh, dw]: [number, number]): number[] {
  const [, ew, ci, co] = grad.shape;
  const from = grad.dataSync();
  const out: number[] = [];
  for (let p = 0; p < kh; p++)
    for (let q = 0; q < kw; q++)
      for (let k = 0; k < ci * co; k++) out.push(from[(p * dh * ew + q * dw) * ci * co + k]!);
  return out;
}

const CASES: Array<{ x: number[]; kernel: number[]; g: ConvGeometry }> = [
  // conv1d's form: [batch, 1, steps, channels], a [1, K] kernel.
  {
    x: [3, 1, 17, 2],
    kernel: [1, 3, 2, 4],
    g: { kernelSize: [1, 3], strides: [1, 1], padding: "valid", dilation: [1, 2] },
  },
  {
    x: [2, 1, 16, 3],
    kernel: [1, 3, 3, 8],
    g: { kernelSize: [1, 3], strides: [1, 1], padding: "same", dilation: [1, 4] },
  },
  {
    x: [2, 1, 11, 1],
    kernel: [1, 2, 1, 5],
    g: { kernelSize: [1, 2], strides: [1, 1], padding: "same", dilation: [1, 3] },
  },
  // 2-D, dilated on both axes.
  {
    x: [2, 9, 8, 2],
    kernel: [3, 2, 2, 3],
    g: { kernelSize: [3, 2], strides: [1, 1], padding: "same", dilation: [2, 3] },
  },
  // conv2d's dilation=2, valid, with a filter count the SIMD filter gradient would take undilated.
  {
    x: [2, 10, 9, 4],
    kernel: [3, 3, 4, 8],
    g: { kernelSize: [3, 3], strides: [1, 1], padding: "valid", dilation: [2, 2] },
  },
];

for (const backend of ["wasm", "cpu"] as const) {
  G(`dilated: dx and dW equal the zero-stuffed undilated convolution's (${backend})`, async () => {
    await useBackend(backend);
    for (const [i, c] of CASES.entries()) {
      const x = seeded(c.x, 1 + i);
      const k = seeded(c.kernel, 20 + i);
      const dilation = c.g.dilation!;
      const undilated = { ...c.g, dilation: [1, 1] as [number, number] };
      // A loss whose gradient is not uniform, so a misplaced tap shows.
      const weightsOf = (t: tf.Tensor) => seeded(t.shape, 99);
      const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const y = dilatedConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.g);
        return tf.sum(tf.mul(y, weightsOf(y)));
      })([x, k]) as [tf.Tensor4D, tf.Tensor4D];
      const s = stuffed(k, dilation);
      const oracle = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, undilated.strides, undilated.padding);
        return tf.sum(tf.mul(y, weightsOf(y)));
      })([x, s]) as [tf.Tensor4D, tf.Tensor4D];
      // The forward agrees too.
      const y1 = values(dilatedConv2d(x, k, c.g));
      const y2 = values(tf.conv2d(x, s, 1, c.g.padding));
      assert.ok(closeness(y1, y2) <= 1, `case ${i}: forward`);
      assert.ok(
        values(ours[1]).some((v) => Math.abs(v) > 1e-3),
        `case ${i}: dW is not ~0`,
      );
      assert.ok(closeness(values(ours[0]), values(oracle[0]), 1e-4, 1e-5) <= 1, `case ${i}: dx`);
      assert.ok(
        closeness(values(ours[1]), taps(oracle[1], c.g.kernelSize, dilation), 1e-4, 1e-5) <= 1,
        `case ${i}: dW`,
      );
      tf.dispose([x, k, s, ...ours, ...oracle]);
    }
    await useBackend("wasm");
  });
}

G("undilated with strides: equal tfjs' own Conv2D gradients (wasm)", async () => {
  await useBackend("wasm");
  const geometries: ConvGeometry[] = [
    { kernelSize: [1, 3], strides: [1, 2], padding: "same" },
    { kernelSize: [1, 4], strides: [1, 3], padding: "valid" },
    { kernelSize: [3, 3], strides: [2, 2], padding: "same" },
  ];
  for (const [i, g] of geometries.entries()) {
    const x = seeded(g.kernelSize[0] === 1 ? [3, 1, 15, 3] : [2, 7, 7, 3], 40 + i);
    const k = seeded([...g.kernelSize, 3, 8], 50 + i);
    const y = tf.conv2d(x, k, g.strides, g.padding);
    const dz = seeded(y.shape, 60 + i);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, g.strides, g.padding), dz)),
    )([x, k]);
    assert.ok(closeness(values(convInputGrad(dz, k, x.shape, g)), values(dx!), 1e-4, 1e-5) <= 1, `${i}: dx`);
    assert.ok(closeness(values(convFilterGrad(x, dz, k.shape, g)), values(dw!), 1e-4, 1e-5) <= 1, `${i}: dW`);
  }
});

G.run();
