import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
// Registers tfjs' gradients (as the lowering does).
import "../../src/lower/register-gradients.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { Random } from "../../src/util/random.ts";

const Kernels = suite("wasm: kernels tfjs-backend-wasm lacks");
Kernels.after(async () => {
  await selectBackend("auto");
});

const randomTensor = (rng: Random, shape: number[]) => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return tf.tensor(data, shape);
};

/** Gradients of sum(conv2d(x, w) * r) for x and w, as plain arrays, on the active backend. */
function convGradients(
  xs: Float32Array,
  ws: Float32Array,
  rs: Float32Array,
  shapes: { x: number[]; w: number[]; out: number[] },
  strides: [number, number],
  padding: "same" | "valid",
) {
  return tf.tidy(() => {
    const x = tf.tensor(xs, shapes.x);
    const w = tf.tensor(ws, shapes.w);
    const r = tf.tensor(rs, shapes.out);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, padding), r)),
    )([x, w]);
    return { dx: Array.from(dx!.dataSync()), dw: Array.from(dw!.dataSync()) };
  });
}

for (const [xShape, kernel, strides, padding] of [
  [[2, 7, 6, 3], [3, 3], [1, 1], "same"],
  [[3, 8, 9, 2], [3, 2], [2, 2], "same"],
  [[2, 7, 7, 4], [3, 1], [2, 1], "valid"],
  [[1, 5, 5, 1], [5, 5], [1, 1], "valid"],
] as Array<[number[], [number, number], [number, number], "same" | "valid"]>) {
  Kernels(
    `conv2d filter gradient on wasm = on cpu: x [${xShape}], kernel ${kernel.join("x")}, stride ${strides.join("x")}, ${padding}`,
    async () => {
      const rng = new Random(xShape.reduce((a, b) => a * 31 + b, 0));
      await selectBackend("cpu");
      const filterShape = [...kernel, xShape[3]!, 4];
      const x = randomTensor(rng, xShape);
      const w = randomTensor(rng, filterShape);
      const outShape = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, padding).shape;
      const r = randomTensor(rng, outShape);
      const data = {
        x: x.dataSync() as Float32Array,
        w: w.dataSync() as Float32Array,
        r: r.dataSync() as Float32Array,
      };
      const shapes = { x: xShape, w: filterShape, out: outShape };
      const cpu = convGradients(data.x, data.w, data.r, shapes, strides, padding);
      const chosen = await selectBackend("wasm");
      assert.is(chosen.name, "wasm");
      const wasm = convGradients(data.x, data.w, data.r, shapes, strides, padding);
      const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
      assert.ok(maxDiff(wasm.dw, cpu.dw) < 1e-4, `filter gradient differs by ${maxDiff(wasm.dw, cpu.dw)}`);
      assert.ok(maxDiff(wasm.dx, cpu.dx) < 1e-4, `input gradient differs by ${maxDiff(wasm.dx, cpu.dx)}`);
      assert.ok(Math.max(...cpu.dw.map(Math.abs)) > 0.1, "a non-trivial gradient");
    },
  );
}

Kernels.run();
