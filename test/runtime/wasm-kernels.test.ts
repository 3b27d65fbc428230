import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
// Registers tfjs' gradients (as the lowering does).
import "../../src/lower/register-gradients.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { Random } from "../../src/util/random.ts";

const Kernels = suite("wasm: kernels tfjs-backend-wasm lacks or gets wrong");
Kernels.after(async () => {
  await selectBackend("auto");
});

/** `run` on the cpu backend, then on wasm: their results differ by at most `tolerance`; returns cpu's. */
async function sameOnWasm(run: () => number[], tolerance: number): Promise<number[]> {
  await selectBackend("cpu");
  const cpu = run();
  assert.is((await selectBackend("wasm")).name, "wasm");
  const wasm = run();
  const maxDiff = Math.max(...wasm.map((v, i) => Math.abs(v - cpu[i]!)));
  assert.ok(maxDiff < tolerance, `differs by ${maxDiff}`);
  return cpu;
}

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

// Filter counts that are multiples of 8 take the SIMD implicit GEMM (simd-kernels.wat; taps not a multiple of
// its tile of 4: 27, 25, 9), others the dilated-convolution form.
for (const [xShape, kernel, strides, padding, filters] of [
  [[2, 7, 6, 3], [3, 3], [1, 1], "same", 4],
  [[3, 8, 9, 2], [3, 2], [2, 2], "same", 4],
  [[2, 7, 7, 4], [3, 1], [2, 1], "valid", 4],
  [[1, 5, 5, 1], [5, 5], [1, 1], "valid", 4],
  [[2, 7, 6, 3], [3, 3], [1, 1], "same", 8],
  [[3, 8, 9, 2], [3, 2], [2, 2], "same", 16],
  [[2, 7, 7, 4], [3, 1], [2, 1], "valid", 8],
  [[1, 5, 5, 1], [5, 5], [1, 1], "valid", 8],
  [[2, 6, 5, 16], [1, 1], [1, 1], "same", 24],
  [[3, 4, 4, 1], [3, 3], [2, 2], "valid", 8],
  [[4, 9, 9, 1], [3, 3], [1, 1], "same", 16],
] as Array<[number[], [number, number], [number, number], "same" | "valid", number]>) {
  Kernels(
    `conv2d filter gradient on wasm = on cpu: x [${xShape}], kernel ${kernel.join("x")}, stride ${strides.join("x")}, ${padding}, ${filters} filters`,
    async () => {
      const rng = new Random(xShape.reduce((a, b) => a * 31 + b, filters));
      await selectBackend("cpu");
      const filterShape = [...kernel, xShape[3]!, filters];
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

/** Conv2DBackpropFilter called directly on the active backend (numeric padding, a rounding mode). */
function filterGradient(
  xs: Float32Array,
  dys: Float32Array,
  xShape: number[],
  dyShape: number[],
  attrs: { filterShape: number[]; strides: number; pad: number; dimRoundingMode: "ceil" | "floor" },
) {
  return tf.tidy(() => {
    const x = tf.tensor(xs, xShape);
    const dy = tf.tensor(dys, dyShape);
    const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
      ...attrs,
      dataFormat: "NHWC",
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return Array.from(dw.dataSync());
  });
}

// With numeric padding and "ceil" rounding the last windows reach past the padded input: zeros there, as on cpu
// (the SIMD kernel's padded copy extends to them; it never reads past its input).
for (const [xShape, k, stride, filters] of [
  [[1, 4, 4, 1], 3, 2, 8],
  [[2, 6, 6, 2], 2, 3, 8],
  [[1, 5, 7, 3], 3, 2, 8],
  [[1, 4, 4, 1], 3, 2, 4],
  [[2, 6, 6, 2], 2, 3, 4],
] as Array<[number[], number, number, number]>) {
  Kernels(
    `conv2d filter gradient, "ceil" rounding, on wasm = on cpu: x [${xShape}], ${k}x${k}, stride ${stride}, ${filters} filters`,
    async () => {
      const rng = new Random(xShape.reduce((a, b) => a * 13 + b, k));
      const filterShape = [k, k, xShape[3]!, filters];
      const info = tf.backend_util.computeConv2DInfo(
        xShape as [number, number, number, number],
        filterShape as [number, number, number, number],
        stride,
        1,
        0,
        "ceil",
      );
      const dyShape = [xShape[0]!, info.outHeight, info.outWidth, filters];
      const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
      const xs = Float32Array.from({ length: size(xShape) }, () => rng.normal());
      const dys = Float32Array.from({ length: size(dyShape) }, () => rng.normal());
      const attrs = { filterShape, strides: stride, pad: 0, dimRoundingMode: "ceil" as const };
      const cpu = await sameOnWasm(() => filterGradient(xs, dys, xShape, dyShape, attrs), 1e-4);
      assert.ok(Math.max(...cpu.map(Math.abs)) > 0.1, "a non-trivial gradient");
    },
  );
}

Kernels(
  "conv2d filter gradient on wasm: a dy that is not the convolution's output shape throws",
  async () => {
    await selectBackend("wasm");
    tf.tidy(() => {
      const x = tf.ones([2, 6, 6, 1]);
      const dy = tf.ones([1, 6, 6, 8]); // the batch is 2
      const run = () =>
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
          filterShape: [3, 3, 1, 8],
          strides: 1,
          pad: "same",
          dataFormat: "NHWC",
        } as unknown as tf.NamedAttrMap);
      assert.throws(run, /dy has shape \[1,6,6,8\], the convolution's output is \[2,6,6,8\]/);
    });
  },
);

/** The gradient of sum(maxPool(x) * r) for x, as a plain array, on the active backend (autograd: MaxPoolGrad). */
function poolGradient(
  xs: Float32Array,
  xShape: number[],
  pool: [number, number],
  strides: [number, number],
  padding: "same" | "valid",
) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xs, xShape as [number, number, number, number]);
    const outShape = tf.maxPool(x, pool, strides, padding).shape;
    const r = tf.tensor(
      Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1)),
      outShape,
    );
    const dx = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, pool, strides, padding), r)),
    )(x);
    return Array.from(dx.dataSync());
  });
}

for (const [xShape, pool, strides, padding, ties] of [
  [[2, 6, 6, 2], [2, 2], [2, 2], "valid", false],
  [[2, 6, 6, 6], [2, 2], [2, 2], "valid", false],
  [[2, 6, 6, 3], [2, 2], [1, 1], "valid", false],
  [[2, 7, 5, 4], [3, 3], [2, 2], "same", false],
  [[1, 6, 6, 12], [3, 3], [3, 3], "valid", false],
  [[2, 6, 6, 5], [2, 2], [2, 2], "valid", true],
  [[2, 5, 5, 3], [3, 3], [1, 1], "same", true],
  [[16, 6, 6, 6], [3, 3], [3, 3], "valid", false],
] as Array<[number[], [number, number], [number, number], "same" | "valid", boolean]>) {
  Kernels(
    `max pooling gradient on wasm = on cpu: x [${xShape}], pool ${pool.join("x")}, stride ${strides.join("x")}, ${padding}${ties ? ", with ties" : ""}`,
    async () => {
      const rng = new Random(xShape.reduce((a, b) => a * 17 + b, 1));
      // With ties: small integers, so windows hold equal maxima (the first one gets the gradient).
      const xs = Float32Array.from({ length: xShape.reduce((a, b) => a * b, 1) }, () =>
        ties ? rng.int(3) : rng.normal(),
      );
      const cpu = await sameOnWasm(() => poolGradient(xs, xShape, pool, strides, padding), 1e-6);
      assert.ok(
        cpu.some((v) => v !== 0),
        "a non-trivial gradient",
      );
    },
  );
}

// Depthwise convolution gradients (tfjs-backend-wasm has no DepthwiseConv2dNativeBackpropFilter / Input): autograd
// on wasm runs nnc's kernels, on cpu tfjs' own; both gradients agree, over multipliers, strides and paddings.
for (const [xShape, kernel, multiplier, strides, padding] of [
  [[2, 6, 6, 3], [3, 3], 1, [1, 1], "same"],
  [[2, 7, 7, 2], [3, 3], 2, [2, 2], "same"],
  [[3, 8, 7, 3], [3, 2], 3, [2, 1], "valid"],
  [[2, 5, 5, 1], [2, 2], 2, [1, 1], "valid"],
] as const) {
  Kernels(
    `depthwise gradients: ${xShape.join("x")} ${kernel.join("x")} x${multiplier} stride ${strides.join("x")} ${padding}`,
    async () => {
      const rng = new Random(5);
      const x = randomTensor(rng, [...xShape]);
      const w = randomTensor(rng, [...kernel, xShape[3], multiplier]);
      const out = tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, [...strides], padding).shape;
      const r = randomTensor(rng, out);
      const [xs, ws, rs] = [x, w, r].map((t) => t.dataSync() as Float32Array);
      tf.dispose([x, w, r]);
      const grads = () =>
        tf.tidy(() => {
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(
              tf.mul(
                tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, [...strides], padding),
                tf.tensor(rs, out),
              ),
            ),
          )([tf.tensor(xs, [...xShape]), tf.tensor(ws, [...kernel, xShape[3], multiplier])]);
          return [...dx!.dataSync(), ...dw!.dataSync()];
        });
      const cpu = await sameOnWasm(grads, 1e-4);
      assert.ok(
        cpu.some((v) => Math.abs(v) > 1e-3),
        "gradients are not all ~0",
      );
    },
  );
}

Kernels.run();
