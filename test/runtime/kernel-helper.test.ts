// Kernels split over a helper thread on tfjs-backend-wasm's shared heap (src/runtime/kernel-helper.ts): the
// heap is shared where there are two cores, every split kernel gives the bits the unsplit one gives, training
// with `parallel: "kernels"` equals one thread bit for bit, and a failing share surfaces as an error.
import { availableParallelism } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { selectBackend } from "../../src/runtime/backend.ts";
import { importSharedMemory, isShared, shareImportedMemory } from "../../src/runtime/shared-heap.ts";
import { simdBinary, simdKernels } from "../../src/runtime/simd-kernels.ts";
import { kernelSplitCalls, pauseSplittingWhenLate } from "../../src/runtime/kernel-helper.ts";
import {
  kernelSplitAvailable,
  kernelsSplitting,
  matMul,
  matMulTransposeA,
  setKernelThreads,
} from "../../src/runtime/simd-ops.ts";
import { buildModel } from "../../src/lower/model.ts";
import { planThreads } from "../../src/train/parallel/plan.ts";
import type { WasmBackend } from "../../src/runtime/wasm-kernels.ts";
import { blobData, dataset, blobs, program, weightsOf } from "../lower/helpers.ts";

const Split = suite("kernels split over a second core on a shared wasm heap");
const twoCores = availableParallelism() >= 2;

Split.before(async () => {
  await selectBackend("wasm");
  // On a loaded machine (a test suite beside it) the helper can fall behind and splitting pause: what these
  // tests count must have been split.
  pauseSplittingWhenLate(false);
});
Split.after(() => {
  setKernelThreads(1);
  pauseSplittingWhenLate(true);
});

/** Starts the helper and waits until it takes shares (it instantiates its kernels first). */
async function helperReady(): Promise<void> {
  setKernelThreads(2);
  for (let waited = 0; !kernelsSplitting(); waited += 5) {
    if (waited > 20_000) throw new Error("the kernel helper thread did not start within 20 s");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const splits = (kernel: string) => kernelSplitCalls()[kernel] ?? 0;
const bits = (t: tf.Tensor) => new Uint32Array((t.dataSync() as Float32Array).slice().buffer);

Split("the wasm heap nnc selects is shared where the machine has two cores", () => {
  const memory = (tf.backend() as WasmBackend).wasm?.asm?.memory;
  assert.is(isShared(memory), twoCores);
  assert.is(kernelSplitAvailable(), twoCores);
});

Split("the binary rewrites: a defined memory becomes a shared import, an imported one shared", () => {
  // The kernels' module imports its memory: shared, it links to a shared memory and not to a plain one.
  const WA = (globalThis as unknown as { WebAssembly: any }).WebAssembly;
  const shared = new WA.Memory({ initial: 1, maximum: 65536, shared: true });
  const plain = new WA.Memory({ initial: 1 });
  const module = new WA.Module(shareImportedMemory(simdBinary(false)));
  new WA.Instance(module, { tfjs: { memory: shared } });
  assert.throws(() => new WA.Instance(module, { tfjs: { memory: plain } }));
  // A module defining its memory (header, one memory of 2 pages, its export) imports it instead.
  const defining = Uint8Array.from([
    0,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    5,
    3,
    1,
    0,
    2,
    7,
    10,
    1,
    6,
    ..."memory".split("").map((c) => c.charCodeAt(0)),
    2,
    0,
  ]);
  const { bytes, initial } = importSharedMemory(defining);
  assert.is(initial, 2);
  const imports = WA.Module.imports(new WA.Module(bytes));
  assert.equal(imports, [{ module: "env", name: "memory", kind: "memory" }]);
  const two = new WA.Memory({ initial: 2, maximum: 65536, shared: true });
  const instance = new WA.Instance(new WA.Module(bytes), { env: { memory: two } });
  assert.is(instance.exports.memory, two);
  assert.throws(() => importSharedMemory(bytes), /defines no memory/);
});

Split("on a plain heap (one core, or tfjs set up by the caller) the kernels run unsplit", () => {
  const WA = (globalThis as unknown as { WebAssembly: any }).WebAssembly;
  const plain = new WA.Memory({ initial: 1 });
  const kernels = simdKernels(plain)!;
  assert.ok(kernels, "no kernels for a plain memory");
  assert.is(isShared(plain), false);
  // 2 images of 1x1x4 padded by one pixel on every side: the values land in the middle of 3x3 images.
  const f32 = new Float32Array(plain.buffer);
  f32.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
  const before = kernelSplitCalls().padImages ?? 0;
  kernels.padImages(0, 1024, 2, 1, 1, 4, 1, 1, 1, 1);
  const out = f32.subarray(256, 256 + 2 * 9 * 4);
  assert.equal(Array.from(out.subarray(16, 20)), [1, 2, 3, 4]);
  assert.equal(Array.from(out.subarray(36 + 16, 36 + 20)), [5, 6, 7, 8]);
  assert.is(
    out.reduce((a, b) => a + b, 0),
    36,
  );
  assert.is(kernelSplitCalls().padImages ?? 0, before);
});

if (twoCores) {
  Split("matmuls split over two threads give the unsplit bits", async () => {
    await helperReady();
    const rng = (seed: number, shape: number[]) => tf.randomNormal(shape, 0, 1, "float32", seed);
    for (const [m, k, n] of [
      [128, 784, 128],
      [37, 300, 64], // rows not a multiple of the 4-row tile
      [512, 128, 64],
    ] as const) {
      const a = rng(m + k, [m, k]) as tf.Tensor2D;
      const b = rng(k + n, [k, n]) as tf.Tensor2D;
      const bias = rng(n, [n]);
      const dz = rng(m * n, [m, n]) as tf.Tensor2D;
      const before = [splits("convForward"), splits("convFilterGrad")];
      setKernelThreads(1);
      const one = [matMul(a, b, bias), matMulTransposeA(a, dz)];
      await helperReady();
      const two = [matMul(a, b, bias), matMulTransposeA(a, dz)];
      assert.ok(splits("convForward") > before[0]!, "the forward matmul was not split");
      if (m >= 128) assert.ok(splits("convFilterGrad") > before[1]!, "the weight gradient was not split");
      one.forEach((t, i) => assert.equal(bits(two[i]!), bits(t), `[${m}, ${k}] x [${k}, ${n}], output ${i}`));
      // And they are right: against tf's matmul.
      const ref = tf.matMul(tf.transpose(a), dz);
      assert.ok(tf.max(tf.abs(tf.sub(two[1]!, ref))).dataSync()[0]! < 1e-3);
    }
  });

  Split(
    "training with kernels split equals one thread bit for bit (dense and conv batchnorm, Adam)",
    async () => {
      await helperReady();
      setKernelThreads(1); // fit turns it on itself; the helper stays started
      // 300 x 128 weights: Adam's update of that kernel is large enough to split.
      const dense = `input 300; dense 128; batchnorm; relu; dense 64; batchnorm; relu; dense 4 softmax
train {
  optimizer adam lr=0.01
  batch 128
  epochs 2
  seed 3
}`;
      const conv = `input 24x24x1; conv2d 16 3x3 padding=same; batchnorm; relu; maxpool 2x2; conv2d 32 3x3; relu; flatten; dense 3 softmax
train {
  optimizer adam lr=0.01
  batch 64
  epochs 1
  seed 5
}`;
      const images = (count: number, seed: number) => blobs(count, 3, 576, seed);
      for (const [source, data] of [
        [dense, blobData(512, 4, 300)],
        [conv, dataset(images(256, 1), images(64, 2), [24, 24, 1], 3)],
      ] as const) {
        const runs = [];
        for (const parallel of [undefined, "kernels"] as const) {
          const model = buildModel(program(source), { backend: "wasm" });
          const history = await model.fit(data, parallel ? { threads: 2, parallel } : { threads: 1 });
          runs.push({ history, weights: weightsOf(model) });
          model.dispose();
        }
        const [one, split] = runs;
        assert.is(one!.history.splitKernels, undefined);
        assert.is(split!.history.splitKernels, true);
        assert.is(split!.history.threads, 1);
        for (const [name, w] of Object.entries(one!.weights))
          assert.equal(
            new Uint32Array(Float32Array.from(split!.weights[name]!).buffer),
            new Uint32Array(Float32Array.from(w).buffer),
            name,
          );
        assert.equal(
          split!.history.epochs.map((e) => e.loss),
          one!.history.epochs.map((e) => e.loss),
        );
      }
      for (const kernel of [
        "convForward",
        "convFilterGrad",
        "adam",
        "channelAffine",
        "maxPoolGrad",
        "padImages",
      ])
        assert.ok(splits(kernel) > 0, `${kernel} was never split`);
    },
  );

  Split("a share that fails is an error, and the helper goes on with the next", async () => {
    await helperReady();
    const backend = tf.backend() as WasmBackend;
    const kernels = simdKernels(backend.wasm?.asm?.memory)!;
    const heapEnd = (backend.wasm?.asm?.memory as { buffer: ArrayBuffer }).buffer.byteLength;
    // Images beyond the heap's end, written beyond it too: both shares trap before writing anything.
    assert.throws(
      () => kernels.padImages(heapEnd + 4096, heapEnd + 65536, 64, 64, 64, 4, 1, 1, 1, 1),
      /out of bounds|kernel helper/,
    );
    const a = tf.ones([128, 256]) as tf.Tensor2D;
    const b = tf.ones([256, 64]) as tf.Tensor2D;
    const before = splits("convForward");
    assert.is(matMul(a, b).dataSync()[0], 256);
    assert.ok(splits("convForward") > before);
  });
}

Split("auto splits kernels for MLPs and keeps data-parallel threads for large convnet steps", () => {
  const model = (source: string) => program(source).models[0]!;
  const mlp = model("input 784; dense 128; batchnorm; relu; dense 10 softmax");
  const convnet = model(
    "input 28x28x1; conv2d 32 3x3; batchnorm; relu; maxpool 2x2; flatten; dense 10 softmax",
  );
  const plan = (m: typeof mlp, batch: number, o: Partial<Parameters<typeof planThreads>[0]> = {}) =>
    planThreads({
      requested: "auto",
      model: m,
      batch,
      steps: 1000,
      compiledStep: true,
      backend: "wasm",
      ...o,
    });
  const split = { threads: 1, splitKernels: true };
  assert.equal(plan(mlp, 512, { kernelSplit: true }), twoCores ? split : { threads: 1 });
  assert.equal(plan(mlp, 32, { kernelSplit: true }), twoCores ? split : { threads: 1 });
  assert.equal(plan(convnet, 128, { kernelSplit: true }), { threads: twoCores ? 2 : 1 });
  // Without a shared heap: as before (data-parallel where the work pays, else one thread).
  assert.equal(plan(mlp, 32, { kernelSplit: false }), { threads: 1 });
  // Asked for: kernels even where auto would pick data; where they cannot split, one thread and why.
  assert.equal(plan(convnet, 128, { kernelSplit: true, requested: 2, parallel: "kernels" }), split);
  assert.match(
    plan(mlp, 128, { requested: 2, parallel: "kernels", kernelSplit: false }).why ?? "",
    /shared heap/,
  );
  // A number of threads without `parallel` stays data-parallel.
  assert.equal(plan(mlp, 128, { requested: 2, kernelSplit: true }), { threads: 2 });
});

Split.run();
