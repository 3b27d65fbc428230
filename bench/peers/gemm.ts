// Bench peer: the machine's ceiling for the multiply-adds a training step is made of, one process on one core:
// float32 GEMM C = A B through tfjs-backend-wasm's matMul (XNNPACK's SIMD kernels, what nnc's dense layers and
// its convolutions' XNNPACK paths run), square sizes 256-1024, best of several timed calls after a warm-up.
// `npm run bench` runs one alone and two at once (one per core) and prints the sums beside each row's GFLOP/s.
// Usage: tsx bench/peers/gemm.ts [SECONDS]   (prints one JSON line: { gflops, size })
import * as tf from "@tensorflow/tfjs-core";
import { selectBackend } from "../../src/runtime/backend.ts";

const seconds = Number(process.argv[2] ?? 2);
await selectBackend("wasm");
let best = { gflops: 0, size: 0 };
for (const size of [256, 512, 1024]) {
  const a = tf.randomUniform([size, size], -1, 1, "float32", 1);
  const b = tf.randomUniform([size, size], -1, 1, "float32", 2);
  const call = () => {
    const c = tf.matMul(a, b);
    c.dataSync(); // waits for the kernel (wasm runs synchronously; this keeps it honest on any backend)
    c.dispose();
  };
  call(); // warm-up: XNNPACK packs b on first use
  const until = performance.now() + (seconds * 1000) / 3;
  while (performance.now() < until) {
    const start = performance.now();
    call();
    const gflops = (2 * size ** 3) / ((performance.now() - start) / 1000) / 1e9;
    if (gflops > best.gflops) best = { gflops, size };
  }
  a.dispose();
  b.dispose();
}
console.log(JSON.stringify(best));
