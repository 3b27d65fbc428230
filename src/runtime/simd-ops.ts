// Runtime: tensor ops of the compiled training step on simd-kernels.wat, where it applies (the wasm backend with
// WebAssembly SIMD, float32, widths the kernels take); callers fall back to tf ops elsewhere. Outputs are plain
// tensors (no gradient is recorded: the compiled step is its own backward). The kernels read and write the heap
// by address, so shapes are checked here: a mismatch would read other tensors' memory where tf ops throw.
//
// Dense layers' forward matmuls (else tf.matMul): XNNPACK packs the right-hand matrix of every matmul whose
// weights it has not seen, which in training is every step: measured on wasm (fresh weights each call, as in
// training): [32, 784] x [784, 128] 0.50 ms against 0.13 ms here, [32, 64] x [64, 1568] 0.79 against 0.30,
// [512, 784] x [784, 128] 3.2 against 2.0. The weight gradient x^T dz from 128 rows runs on the filter-gradient
// kernel (matMulTransposeA), which kernel-helper.ts can split over two cores.
import * as tf from "@tensorflow/tfjs-core";
import { simdBinary, simdKernels, type SimdKernels } from "./simd-kernels.ts";
import { kernelHelperProblem, kernelHelperReady, kernelThreads } from "./kernel-helper.ts";
import { isShared } from "./shared-heap.ts";
import type { WasmBackend } from "./wasm-kernels.ts";

interface Simd {
  backend: WasmBackend;
  kernels: SimdKernels;
}

/** The kernels, if the backend is wasm with SIMD, `width` is a multiple of `multiple` and the operands float32. */
function simdFor(width: number, multiple: number, ...operands: tf.Tensor[]): Simd | undefined {
  if (width % multiple !== 0 || tf.getBackend() !== "wasm") return undefined;
  if (operands.some((t) => t.dtype !== "float32" || t.size === 0)) return undefined;
  const backend = tf.backend() as WasmBackend;
  const kernels = simdKernels(backend.wasm?.asm?.memory);
  return kernels && { backend, kernels };
}

function expectShape(t: tf.Tensor, shape: number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new Error(`internal: ${what} has shape [${t.shape}], expected [${shape}]`);
}

/**
 * Runs `body` with backend buffers it allocates through `allocate` (float32 unless said), frees all of them
 * afterwards except those it returns as outputs (wrapped as tensors), also when a kernel traps.
 */
export function withBuffers<T>(
  backend: WasmBackend,
  body: (allocate: (shape: number[], dtype?: "float32" | "int32") => tf.TensorInfo) => T,
  outputs: (result: T) => tf.TensorInfo[],
): T {
  const buffers: tf.TensorInfo[] = [];
  try {
    const result = body((shape, dtype = "float32") => {
      buffers.push(backend.makeOutput(shape, dtype));
      return buffers.at(-1)!;
    });
    const kept = new Set(outputs(result));
    buffers.splice(0, buffers.length, ...buffers.filter((b) => !kept.has(b)));
    return result;
  } finally {
    for (const b of buffers) backend.disposeData(b.dataId);
  }
}

const tensorOf = (backend: WasmBackend, info: tf.TensorInfo) =>
  tf.engine().makeTensorFromTensorInfo(info, backend);

/** a [m, k] x b [k, n] (+ bias [n]). */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D, bias?: tf.Tensor): tf.Tensor2D {
  const [m, k] = a.shape;
  const n = b.shape[1];
  const simd = simdFor(n, 8, a, b, ...(bias ? [bias] : []));
  if (!simd) {
    const z = tf.matMul(a, b) as tf.Tensor2D;
    return bias ? (tf.add(z, bias) as tf.Tensor2D) : z;
  }
  expectShape(b, [k, n], "the matmul's right operand");
  if (bias) expectShape(bias, [n], "the matmul's bias");
  const { backend, kernels } = simd;
  const at = (t: { dataId: tf.DataId }) => backend.getMemoryOffset(t.dataId);
  const out = withBuffers(
    backend,
    (allocate) => {
      // Rows of a as m images of one pixel with k taps at byte offsets 0, 4, 8, ...
      const taps = allocate([k], "int32");
      const z = allocate([m, n]);
      // Views after the allocations: a heap that grows detaches older ones.
      const table = backend.typedArrayFromHeap(taps) as unknown as Int32Array; // an int32 tensor's view
      for (let i = 0; i < k; i++) table[i] = i * 4;
      kernels.convForward(at(a), at(b), bias ? at(bias) : 0, at(z), at(taps), k, n, m, 1, 1, k * 4, 0, 0);
      return z;
    },
    (z) => [z],
  );
  return tensorOf(backend, out) as tf.Tensor2D;
}

/**
 * Rows from which a^T b runs on the SIMD kernel. Measured on wasm (ms, XNNPACK with the transpose materialised /
 * this kernel on one thread / split over two): [32, 784]^T [32, 128] 0.23 / 0.35 / 0.31, [128, 784]^T [128, 128]
 * 1.10 / 1.27 / 0.69, [512, 784]^T [512, 128] 5.3 / 4.9 / 2.5, [128, 128]^T [128, 64] 0.135 / 0.110 / 0.071,
 * [512, 128]^T [512, 64] 0.86 / 0.39 / 0.21.
 */
const MIN_ROWS_TRANSPOSE_A = 128;

/**
 * a^T b for a [m, k] and b [m, n]: a dense layer's weight gradient x^T dz, as the filter-gradient kernel over one
 * image of m rows with k taps (no transpose of a is materialised); else tf's matMul with the transpose.
 */
export function matMulTransposeA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [m, k] = a.shape;
  const n = b.shape[1];
  // By shape alone, never by whether kernels split, so that splitting keeps results bit for bit.
  const simd = m >= MIN_ROWS_TRANSPOSE_A ? simdFor(n, 8, a, b) : undefined;
  if (!simd) return tf.matMul(tf.transpose(a) as tf.Tensor2D, b);
  expectShape(b, [m, n], "the matmul's right operand");
  const { backend, kernels } = simd;
  const at = (t: { dataId: tf.DataId }) => backend.getMemoryOffset(t.dataId);
  const out = withBuffers(
    backend,
    (allocate) => {
      // Padded to the kernel's 4-tap tile: it loads a whole tile's offsets (zeros past k, as wasm-kernels.ts).
      const taps = allocate([Math.ceil(k / 4) * 4], "int32");
      const dw = allocate([k, n]);
      const table = backend.typedArrayFromHeap(taps) as unknown as Int32Array;
      table.fill(0);
      for (let i = 0; i < k; i++) table[i] = i * 4;
      (backend.typedArrayFromHeap(dw) as Float32Array).fill(0); // the kernel accumulates
      // One image of m rows and one column: the kernel keeps a tile of dw in registers across all m rows (as m
      // one-pixel images it would load and store it for every row).
      kernels.convFilterGrad(at(a), at(b), at(dw), at(taps), k, n, 1, m, 1, m * k * 4, k * 4, 0);
      return dw;
    },
    (dw) => [dw],
  );
  return tensorOf(backend, out) as tf.Tensor2D;
}

/** The wasm backend's heap, if it is the active backend. */
const wasmHeap = (): object | undefined =>
  tf.getBackend() === "wasm" ? (tf.backend() as WasmBackend).wasm?.asm?.memory : undefined;

/** Whether nnc's SIMD kernels can split over a second thread here: wasm on a shared heap (shared-heap.ts). */
export function kernelSplitAvailable(): boolean {
  const heap = wasmHeap();
  return heap !== undefined && isShared(heap) && simdKernels(heap) !== undefined;
}

/**
 * Splits nnc's SIMD kernels over a helper thread from now on (2), or stops (1): a training run on one training
 * thread with a second core free (src/train/parallel/plan.ts). Results are the same bits either way.
 */
export function setKernelThreads(threads: 1 | 2): void {
  const heap = wasmHeap();
  if (threads === 2 && !(heap && kernelSplitAvailable())) return kernelThreads(1, undefined, undefined);
  kernelThreads(threads, heap, heap ? simdBinary(true) : undefined);
}

/** Whether kernels are being split now (the helper thread has started and kernelThreads is 2). */
export const kernelsSplitting = (): boolean => kernelHelperReady(wasmHeap());

/** Why kernels could not split (the helper thread failed), if they could not. */
export const kernelSplitProblem = (): string | undefined => kernelHelperProblem(wasmHeap());

/** Whether matMul's output width `n` runs on nnc's kernel here (wasm with SIMD, n a multiple of 8). */
export function simdMatMulFits(n: number): boolean {
  return simdFor(n, 8) !== undefined;
}

/** Whether the per-channel SIMD passes apply to float32 tensors with `channels` in their last axis here. */
export function simdChannels(channels: number): boolean {
  return simdFor(channels, 4) !== undefined;
}

/** Per-channel means over every axis but the last of t, c = t - shift and c * (u - shift) (see channelSums). */
export interface ChannelMeans {
  /** mean of c per channel */
  mean: tf.Tensor1D;
  /** mean of c * (u - shift) per channel */
  productMean: tf.Tensor1D;
  /** c itself, when asked for */
  centered?: tf.Tensor;
}

/**
 * Per-channel means over every axis but the last of c = t - shift and of c * (u - shift) (shift 0 and u = t by
 * default: means and mean squares), in one pass with float64 block sums; `keep` also returns c; with a gate
 * (a relu's output, t's shape), t times that relu's derivative instead of t. Undefined where the SIMD kernels do
 * not apply (channels not a multiple of 4, not wasm): callers use tf ops.
 */
export function channelMeansSimd(
  t: tf.Tensor,
  {
    u,
    shift,
    gate,
    keep = false,
  }: { u?: tf.Tensor; shift?: tf.Tensor; gate?: tf.Tensor; keep?: boolean } = {},
): ChannelMeans | undefined {
  const c = t.shape.at(-1)!;
  const simd = simdFor(c, 4, t, ...[u, shift, gate].filter((x) => x !== undefined));
  if (!simd) return undefined;
  if (u) expectShape(u, t.shape, "the second operand");
  if (gate) expectShape(gate, t.shape, "the gate");
  if (shift) expectShape(shift, [c], "the shift");
  const { backend, kernels } = simd;
  const rows = t.size / c;
  const at = (x: { dataId: tf.DataId }) => backend.getMemoryOffset(x.dataId);
  const outs = withBuffers(
    backend,
    (allocate) => {
      const zeros = shift ? undefined : allocate([c]);
      const scratch = allocate([4 * c]); // 2c float64
      const mean = allocate([c]);
      const productMean = allocate([c]);
      const centered = keep ? allocate([...t.shape]) : undefined;
      // Views after the allocations: a heap that grows detaches older ones.
      if (zeros) backend.typedArrayFromHeap(zeros).fill(0);
      kernels.channelSums(
        at(t),
        gate ? at(gate) : 0,
        at(u ?? t),
        at(shift ?? zeros!),
        centered ? at(centered) : 0,
        rows,
        c,
        at(scratch),
        at(mean),
        at(productMean),
        1 / rows,
      );
      return { mean, productMean, centered };
    },
    (r) => [r.mean, r.productMean, ...(r.centered ? [r.centered] : [])],
  );
  return {
    mean: tensorOf(backend, outs.mean) as tf.Tensor1D,
    productMean: tensorOf(backend, outs.productMean) as tf.Tensor1D,
    ...(outs.centered ? { centered: tensorOf(backend, outs.centered) } : {}),
  };
}

/** A per-channel affine's options: t * scale + plus.t * plus.scale + shift, then relu; t gated by gate. */
export interface AffineOptions {
  shift?: tf.Tensor | undefined;
  plus?: { t: tf.Tensor; scale: tf.Tensor } | undefined;
  relu?: boolean;
  /** A relu's output (t's shape): t is multiplied by that relu's derivative first. */
  gate?: tf.Tensor | undefined;
}

/**
 * t * scale + plus.t * plus.scale + shift per channel (the last axis; scales and shift [C]; plus and shift
 * optional), then relu if asked, in one pass; with a gate, t times the gate's relu derivative first. Undefined
 * where the SIMD kernels do not apply.
 */
export function channelAffineSimd(
  t: tf.Tensor,
  scale: tf.Tensor,
  { shift, plus, relu = false, gate }: AffineOptions,
): tf.Tensor | undefined {
  const c = t.shape.at(-1)!;
  const extra = [shift, plus?.t, plus?.scale, gate].filter((x) => x !== undefined);
  const simd = simdFor(c, 4, t, scale, ...extra);
  if (!simd) return undefined;
  expectShape(scale, [c], "the scale");
  if (shift) expectShape(shift, [c], "the shift");
  if (plus) expectShape(plus.t, t.shape, "the second term");
  if (plus) expectShape(plus.scale, [c], "the second term's scale");
  if (gate) expectShape(gate, t.shape, "the gate");
  const { backend, kernels } = simd;
  const at = (x: { dataId: tf.DataId }) => backend.getMemoryOffset(x.dataId);
  const out = withBuffers(
    backend,
    (allocate) => {
      const zeros = shift ? undefined : allocate([c]);
      const result = allocate([...t.shape]);
      if (zeros) backend.typedArrayFromHeap(zeros).fill(0);
      kernels.channelAffine(
        at(t),
        gate ? at(gate) : 0,
        at(scale),
        plus ? at(plus.t) : 0, // 0: no second term
        plus ? at(plus.scale) : 0,
        at(shift ?? zeros!),
        at(result),
        t.size / c,
        c,
        relu ? 1 : 0,
      );
      return result;
    },
    (result) => [result],
  );
  return tensorOf(backend, out);
}
