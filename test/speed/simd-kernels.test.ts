// The WebAssembly SIMD kernels: the committed binary (src/runtime/simd-kernels-binary.ts) is the
// compile of src/runtime/simd-kernels.wat (UPDATE_GOLDEN=1 rewrites it), and its Adam equals the same formula
// in float32 on sizes with and without a SIMD tail; an update that fails midway leaks nothing.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import wabtInit from "wabt";
import { SIMD_KERNELS_WASM } from "../../src/runtime/simd-kernels-binary.ts";
import { simdKernels } from "../../src/runtime/simd-kernels.ts";
import { openUpdate, runUpdate, wasmHeap } from "../../src/train/tensor-memory.ts";
import { Random } from "../../src/util/random.ts";
import { Network } from "../../src/lower/network.ts";
import { createOptimizer } from "../../src/train/optimizers.ts";
import { closeness, program, useBackend, values } from "../lower/helpers.ts";

const Kernels = suite("SIMD kernels on the wasm heap");
Kernels.before(() => useBackend("wasm"));

const watPath = fileURLToPath(new URL("../../src/runtime/simd-kernels.wat", import.meta.url));
const binaryPath = fileURLToPath(new URL("../../src/runtime/simd-kernels-binary.ts", import.meta.url));

Kernels("the committed binary is the compiled .wat", async () => {
  const wabt = await wabtInit();
  const mod = wabt.parseWat("simd-kernels.wat", readFileSync(watPath, "utf8"), {
    simd: true,
    bulk_memory: true,
  });
  const base64 = Buffer.from(mod.toBinary({}).buffer).toString("base64");
  mod.destroy();
  if (process.env.UPDATE_GOLDEN === "1" && base64 !== SIMD_KERNELS_WASM) {
    writeFileSync(
      binaryPath,
      "// Generated from simd-kernels.wat by test/speed/simd-kernels.test.ts (UPDATE_GOLDEN=1): do not edit.\n" +
        `export const SIMD_KERNELS_WASM =\n  "${base64}";\n`,
    );
    return;
  }
  assert.is(SIMD_KERNELS_WASM, base64, "stale binary: run the test with UPDATE_GOLDEN=1");
});

Kernels(
  "adam equals Keras' formula in float32 (SIMD body and scalar tail), with and without clip and decay",
  () => {
    const heap = wasmHeap()!;
    const kernels = simdKernels(heap.memory)!;
    assert.ok(kernels, "the kernel module instantiates on tfjs' heap");
    const rng = new Random(5);
    // [gscale, clip, decay]: plain Adam, then a clipnorm factor with clipvalue and weight decay (lr 0.003 x 0.01).
    for (const [gscale, clip, decay] of [
      [1, Infinity, 0],
      [0.7, 0.05, 0.003 * 0.01],
    ] as const) {
      for (const n of [1, 3, 4, 10, 37]) {
        const make = (scale: number) => Float32Array.from({ length: n }, () => rng.normal() * scale);
        const [w0, g0, m0] = [make(1), make(0.1), make(0.01)];
        const v0 = Float32Array.from(make(0.01), Math.abs);
        const [w, g, m, v] = [w0, g0, m0, v0].map((a) => tf.tensor1d(a));
        const out = tf.zeros([n]);
        const [alpha, a1, a2, eps] = [0.003, 0.1, 0.001, 1e-7];
        kernels.adam(
          heap.pointer(w!),
          heap.pointer(out),
          heap.pointer(g!),
          heap.pointer(m!),
          heap.pointer(v!),
          n,
          alpha,
          a1,
          a2,
          eps,
          gscale,
          clip,
          decay,
        );
        const f = Math.fround;
        for (let j = 0; j < n; j++) {
          const gj = Math.max(Math.min(f(g0[j]! * f(gscale)), f(clip)), -f(clip));
          const w1 = f(w0[j]! - f(w0[j]! * f(decay)));
          const mj = f(m0[j]! + f(f(gj - m0[j]!) * f(a1)));
          const vj = f(v0[j]! + f(f(f(gj * gj) - v0[j]!) * f(a2)));
          const wj = f(w1 - f(f(mj * f(alpha)) / f(f(Math.sqrt(vj)) + f(eps))));
          assert.is(m!.dataSync()[j], mj, `m[${j}] of ${n}`);
          assert.is(v!.dataSync()[j], vj, `v[${j}] of ${n}`);
          assert.is(out.dataSync()[j], wj, `w[${j}] of ${n}`);
          assert.is(w!.dataSync()[j], w0[j], "w is not written");
        }
        tf.dispose([w!, g!, m!, v!, out]);
      }
    }
  },
);

Kernels(
  "convForward over padImages' output is a convolution (tiles of 4 pixels with a tail, strides)",
  () => {
    const heap = wasmHeap()!;
    const kernels = simdKernels(heap.memory)!;
    const rng = new Random(9);
    for (const [n, h, w, ci, co, stride] of [
      [2, 5, 7, 3, 8, 1],
      [1, 6, 6, 2, 16, 2],
    ]) {
      tf.tidy(() => {
        const x = tf.tensor4d(
          Float32Array.from({ length: n! * h! * w! * ci! }, () => rng.normal()),
          [n!, h!, w!, ci!],
        );
        const f = tf.tensor4d(
          Float32Array.from({ length: 9 * ci! * co! }, () => rng.normal()),
          [3, 3, ci!, co!],
        );
        const want = tf.conv2d(x, f, stride!, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]);
        const [, oh, ow] = want.shape;
        const [hp, wp] = [h! + 2, w! + 2];
        const padded = tf.zeros([n!, hp, wp, ci!]);
        kernels.padImages(heap.pointer(x), heap.pointer(padded), n!, h!, w!, ci!, 1, 1, 1, 1);
        const taps = Int32Array.from({ length: 9 * ci! }, (_, k) => {
          const [i, j, c] = [Math.floor(k / (3 * ci!)), Math.floor(k / ci!) % 3, k % ci!];
          return ((i * wp + j) * ci! + c) * 4;
        });
        const table = tf.tensor1d(taps, "int32");
        const out = tf.zeros(want.shape);
        kernels.convForward(
          heap.pointer(padded),
          heap.pointer(f),
          0,
          heap.pointer(out),
          heap.pointer(table),
          taps.length,
          co!,
          n!,
          oh,
          ow,
          hp * wp * ci! * 4,
          stride! * wp * ci! * 4,
          stride! * ci! * 4,
        );
        const diff = tf.max(tf.abs(tf.sub(out, want))).dataSync()[0]!;
        assert.ok(diff < 1e-4, `[${n}, ${h}, ${w}, ${ci}] -> ${co}, stride ${stride}: differs by ${diff}`);
      });
    }
  },
);

const Update = suite("fused optimizer update");

/** Three Adam steps on a dense layer with fixed gradients on `backend`; returns weights, slots, forward. */
async function threeSteps(backend: "wasm" | "cpu") {
  await useBackend(backend);
  const p = program("input 5; dense 7 relu; dense 3 softmax");
  const net = new Network(p.models[0]!, 2);
  const opt = createOptimizer(
    { type: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    net.trainable,
  );
  const rng = new Random(8);
  const x = tf.tensor2d(
    Float32Array.from({ length: 4 * 5 }, () => rng.normal()),
    [4, 5],
  );
  const forward = () => tf.tidy(() => values(net.forward(x, { training: false })));
  const before = forward();
  for (let t = 1; t <= 3; t++) {
    tf.tidy(() =>
      opt.apply(
        Object.fromEntries(
          net.trainable.map((w) => [
            w.name,
            tf.tensor(
              Float32Array.from({ length: w.variable.size }, () => rng.normal()),
              w.variable.shape,
            ),
          ]),
        ),
      ),
    );
  }
  const weights = Object.fromEntries(net.weights.map((w) => [w.name, values(w.variable)]));
  const out = { before, after: forward(), weights, slots: opt.slots() };
  // The same weights in a network that never had them changed: its forward is the reference.
  const fresh = new Network(p.models[0]!, 99);
  for (const w of fresh.weights)
    tf.tidy(() => w.variable.assign(tf.tensor(weights[w.name]!, w.variable.shape)));
  const reference = tf.tidy(() => values(fresh.forward(x, { training: false })));
  opt.dispose();
  tf.dispose([x]);
  net.dispose();
  fresh.dispose();
  return { ...out, reference };
}

Update("the forward uses the updated weights (no stale packed weights in wasm's matmul cache)", async () => {
  const r = await threeSteps("wasm");
  assert.ok(closeness(r.after, r.reference, 1e-6, 1e-7) <= 1, "forward after the update");
  assert.ok(closeness(r.after, r.before, 1e-6, 1e-7) > 1, "the update changed the output");
});

Update("wasm's SIMD kernel and the JS update (cpu) agree beyond float rounding", async () => {
  const wasm = await threeSteps("wasm");
  const cpu = await threeSteps("cpu");
  await useBackend("wasm");
  for (const k of Object.keys(cpu.weights)) {
    assert.ok(closeness(wasm.weights[k]!, cpu.weights[k]!, 1e-5, 1e-7) <= 1, k);
  }
  assert.equal(Object.keys(wasm.slots).sort(), Object.keys(cpu.slots).sort());
  for (const k of Object.keys(cpu.slots)) {
    assert.ok(closeness(wasm.slots[k]!.data, cpu.slots[k]!.data, 1e-5, 1e-9) <= 1, k);
  }
});

Update(
  "an update that throws midway frees its fresh memory and leaves the variables as they were",
  async () => {
    for (const backend of ["wasm", "cpu"] as const) {
      await useBackend(backend);
      const v = tf.variable(tf.tensor1d([1, 2, 3]));
      const g = tf.tensor1d([0.5, 0.5, 0.5]);
      const ids = () => tf.engine().backend.numDataIds();
      const before = ids();
      const open = openUpdate([g], [v]);
      assert.throws(
        () =>
          runUpdate(open, (o) => {
            o.next[0]!.set([9, 9, 9]);
            throw new Error("kernel trap");
          }),
        /kernel trap/,
      );
      assert.is(ids(), before, `${backend}: buffers after the failed update`);
      assert.equal(values(v), [1, 2, 3], backend);
      runUpdate(openUpdate([g], [v]), (o) => o.next[0]!.set([4, 5, 6]));
      assert.equal(values(v), [4, 5, 6], `${backend}: a later update commits`);
      tf.dispose([v, g]);
    }
    await useBackend("wasm");
  },
);

Kernels.run();
Update.run();
