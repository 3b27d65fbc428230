// Runtime: the dense layers' forward matmuls of the compiled training step, on simd-kernels.wat where it applies (the
// wasm backend with WebAssembly SIMD, an output width that is a multiple of 8), else tf.matMul. XNNPACK packs the
// right-hand matrix of every matmul whose weights it has not seen, which in training is every step: measured on
// wasm (fresh weights each call, as in training): [32, 784] x [784, 128] 0.50 ms against 0.13 ms here, [32, 64]
// x [64, 1568] 0.79 against 0.30, [512, 784] x [784, 128] 3.2 against 2.0. (The weight gradient x^T dz as the
// filter-gradient kernel was not faster than XNNPACK with the transpose materialised, and is not used.)
// Outputs are plain tensors (no gradient is recorded: the compiled step is its own backward).
import * as tf from "@tensorflow/tfjs-core";
import { simdKernels, type SimdKernels } from "./simd-kernels.ts";
import type { WasmBackend } from "./wasm-kernels.ts";

interface Simd {
  backend: WasmBackend;
  kernels: SimdKernels;
}

function simdFor(columns: number, ...operands: tf.Tensor[]): Simd | undefined {
  if (columns % 8 !== 0 || tf.getBackend() !== "wasm") return undefined;
  if (operands.some((t) => t.dtype !== "float32" || t.size === 0)) return undefined;
  const backend = tf.backend() as WasmBackend;
  const kernels = simdKernels(backend.wasm?.asm?.memory);
  return kernels && { backend, kernels };
}

/**
 * Runs `kernel` with a table of `k` byte offsets 0, 4, 8, ... (a matmul's row of k values as the kernels' taps)
 * and an output of `shape`, and returns the output.
 */
function withTaps(
  { backend }: Simd,
  k: number,
  shape: number[],
  kernel: (taps: number, out: number) => void,
): tf.Tensor {
  const taps = backend.makeOutput([k], "int32");
  const out = backend.makeOutput(shape, "float32");
  // Views after the allocations: a heap that grows detaches older ones.
  const table = backend.typedArrayFromHeap(taps) as unknown as Int32Array; // an int32 tensor's view
  for (let i = 0; i < k; i++) table[i] = i * 4;
  try {
    kernel(backend.getMemoryOffset(taps.dataId), backend.getMemoryOffset(out.dataId));
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    backend.disposeData(taps.dataId);
  }
  return tf.engine().makeTensorFromTensorInfo(out, backend);
}

const address = (backend: WasmBackend, t: tf.Tensor) => backend.getMemoryOffset(t.dataId);

/** a [m, k] x b [k, n] (+ bias [n]). */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D, bias?: tf.Tensor): tf.Tensor2D {
  const [m, k] = a.shape;
  const n = b.shape[1];
  const simd = simdFor(n, a, b, ...(bias ? [bias] : []));
  if (!simd) {
    const z = tf.matMul(a, b) as tf.Tensor2D;
    return bias ? (tf.add(z, bias) as tf.Tensor2D) : z;
  }
  const at = (t: tf.Tensor) => address(simd.backend, t);
  // Rows of a as m images of one pixel with k taps.
  const z = withTaps(simd, k, [m, n], (taps, out) =>
    simd.kernels.convForward(at(a), at(b), bias ? at(bias) : 0, out, taps, k, n, m, 1, 1, k * 4, 0, 0),
  );
  return z as tf.Tensor2D;
}
