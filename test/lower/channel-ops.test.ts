// Per-channel passes of NHWC tensors (src/lower/channel-ops.ts) against float64 JS: on wasm with channels a
// multiple of 4 (SIMD kernels) and not (tf ops), rows that fill blocks of 256 and leave tails, and on cpu.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  channelAffine,
  channelCentered,
  channelMeans,
  channelMeansOfProduct,
} from "../../src/lower/channel-ops.ts";
import { Random } from "../../src/util/random.ts";
import { useBackend } from "./helpers.ts";

const Channels = suite("per-channel passes (NHWC)");

const close = (got: ArrayLike<number>, want: number[], what: string, tolerance = 1e-5) => {
  assert.is(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    const error = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    assert.ok(error < tolerance, `${what}[${i}]: ${got[i]} against ${want[i]}`);
  }
};

for (const [backend, shape] of [
  ["wasm", [3, 10, 11, 8]],
  ["wasm", [1, 1, 7, 4]],
  ["wasm", [2, 5, 5, 3]],
  ["cpu", [2, 9, 9, 4]],
] as Array<["wasm" | "cpu", number[]]>) {
  Channels(`means, centering, products and affine on ${backend}: [${shape}]`, async () => {
    await useBackend(backend);
    const rng = new Random(shape.reduce((a, b) => a * 7 + b, 3));
    const c = shape[3]!;
    const rows = shape.reduce((a, b) => a * b, 1) / c;
    // An offset mean (5) over a unit spread: a one-pass variance would lose digits here.
    const xs = Array.from({ length: rows * c }, () => 5 + rng.normal());
    const ys = Array.from({ length: rows * c }, () => rng.normal());
    const [s, t, u] = [0, 1, 2].map(() => Array.from({ length: c }, () => rng.normal()));
    const perChannel = (f: (row: number, ch: number) => number) =>
      Array.from({ length: c }, (_, ch) => {
        let sum = 0;
        for (let r = 0; r < rows; r++) sum += f(r, ch);
        return sum / rows;
      });
    const mean = perChannel((r, ch) => xs[r * c + ch]!);
    tf.tidy(() => {
      const x = tf.tensor(xs, shape);
      const y = tf.tensor(ys, shape);
      close(channelMeans(x).dataSync(), mean, "mean");
      const { centered, meanSquare } = channelCentered(x, tf.tensor1d(mean));
      const want = xs.map((v, i) => Math.fround(v) - Math.fround(mean[i % c]!));
      close(centered!.dataSync(), want, "x - mean", 1e-6);
      close(
        meanSquare.dataSync(),
        perChannel((r, ch) => (xs[r * c + ch]! - mean[ch]!) ** 2),
        "variance",
      );
      const [m1, m2] = channelMeansOfProduct(x, y);
      close(m1.dataSync(), mean, "mean of a");
      close(
        m2.dataSync(),
        perChannel((r, ch) => xs[r * c + ch]! * ys[r * c + ch]!),
        "mean of a * b",
      );
      const affine = channelAffine(x, tf.tensor1d(s), {
        shift: tf.tensor1d(t),
        plus: { t: y, scale: tf.tensor1d(u) },
      });
      close(
        affine.dataSync(),
        xs.map((v, i) => v * s[i % c]! + ys[i]! * u[i % c]! + t[i % c]!),
        "x s + y u + t",
      );
      // A relu applied, and a gate: x counts where the gate (y here) is positive.
      const gated = xs.map((v, i) => (ys[i]! > 0 ? v : 0));
      close(
        channelAffine(x, tf.tensor1d(s), { shift: tf.tensor1d(t), relu: true }).dataSync(),
        xs.map((v, i) => Math.max(0, v * s[i % c]! + t[i % c]!)),
        "relu(x s + t)",
      );
      close(
        channelAffine(x, tf.tensor1d(s), { gate: y }).dataSync(),
        gated.map((v, i) => v * s[i % c]!),
        "x [y > 0] s",
      );
      const [g1, g2] = channelMeansOfProduct(x, x, y);
      close(
        g1.dataSync(),
        perChannel((r, ch) => gated[r * c + ch]!),
        "mean of a [gate > 0]",
      );
      close(
        g2.dataSync(),
        perChannel((r, ch) => gated[r * c + ch]! * xs[r * c + ch]!),
        "mean of a [gate > 0] a",
      );
      close(
        channelAffine(x, tf.tensor1d(s)).dataSync(),
        xs.map((v, i) => v * s[i % c]!),
        "x s",
      );
    });
  });
}

// NaN and infinities go through as tf ops take them (the SIMD kernels on wasm against the tf-op forms on cpu):
// a gate multiplies by relu's derivative (NaN where the gate is NaN, so NaN and infinite values stay NaN where
// it is 0), and an affine without a second term does not multiply anything by 0.
Channels("NaN and infinities: SIMD kernels on wasm = tf ops on cpu", async () => {
  const shape = [1, 2, 2, 4];
  const xs = [1, Infinity, -Infinity, NaN, 2, -3, 0.5, Infinity, NaN, 1, -1, 2, -Infinity, 3, 4, -2];
  const gates = [1, 0, 2, 0, NaN, 1, 0, 3, 1, -1, 0, Infinity, 0, 2, -0, 1];
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor(xs, shape);
      const gate = tf.tensor(gates, shape);
      const scale = tf.tensor1d([1, 2, -1, 0.5]);
      const shift = tf.tensor1d([0, 1, -1, 2]);
      return [
        channelAffine(x, scale, { shift, relu: true }),
        channelAffine(x, scale, { shift, gate }),
        ...channelMeansOfProduct(x, tf.onesLike(x), gate),
      ].map((t) => Array.from(t.dataSync()));
    });
  await useBackend("cpu");
  const cpu = run();
  await useBackend("wasm");
  const wasm = run();
  cpu.forEach((want, i) => assert.equal(wasm[i], want, `result ${i}`));
});

Channels(
  "on wasm: no backend buffer left behind, and a mismatched shape throws instead of reading",
  async () => {
    await useBackend("wasm");
    const buffers = tf.engine().backend.numDataIds();
    tf.tidy(() => {
      const x = tf.ones([2, 3, 3, 8]);
      const s = tf.ones([8]);
      channelMeans(x);
      channelCentered(x, s);
      channelCentered(x, s, { keep: false });
      channelMeansOfProduct(x, x, x);
      channelAffine(x, s, { shift: s, plus: { t: x, scale: s }, gate: x, relu: true });
      assert.throws(() => channelAffine(x, tf.ones([4])), /shape \[4\], expected \[8\]/);
      assert.throws(() => channelMeansOfProduct(x, tf.ones([2, 3, 3, 4])), /shape/);
    });
    assert.is(tf.engine().backend.numDataIds(), buffers);
  },
);

Channels.run();
