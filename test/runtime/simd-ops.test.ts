// The dense layers' forward matmul on simd-kernels.wat equals tf.matMul (+ bias) on the same backend: row counts
// that leave a partial tile of 4, one inner value, widths on and off the SIMD path (multiples of 8 or not).
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { matMul } from "../../src/runtime/simd-ops.ts";
import { Random } from "../../src/util/random.ts";
import { useBackend } from "../lower/helpers.ts";

const MatMul = suite("SIMD matmul (wasm)");
MatMul.before(() => useBackend("wasm"));

const random = (rng: Random, shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
    shape,
  );

for (const [m, k, n, withBias] of [
  [32, 784, 128, true],
  [7, 33, 8, false],
  [1, 1, 16, true],
  [5, 64, 24, true],
  [6, 10, 10, true],
] as Array<[number, number, number, boolean]>) {
  MatMul(`[${m}, ${k}] x [${k}, ${n}]${withBias ? " + bias" : ""} = tf.matMul`, () => {
    const rng = new Random(m * 1000 + k * 10 + n);
    // The backend's own count of buffers: the offsets table the kernel uses is one, but no tensor's.
    const buffers = tf.engine().backend.numDataIds();
    tf.tidy(() => {
      const a = random(rng, [m, k]) as tf.Tensor2D;
      const b = random(rng, [k, n]) as tf.Tensor2D;
      const bias = withBias ? random(rng, [n]) : undefined;
      const got = matMul(a, b, bias);
      const want = bias ? tf.add(tf.matMul(a, b), bias) : tf.matMul(a, b);
      assert.equal(got.shape, [m, n]);
      const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!;
      assert.ok(diff < 1e-4 * Math.sqrt(k), `differs by ${diff}`);
    });
    assert.is(tf.engine().backend.numDataIds(), buffers, "no buffer left behind");
  });
}

MatMul.run();
