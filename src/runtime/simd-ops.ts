// Runtime: tensor ops of the compiled training step on simd-kernels.wat, where it applies (the wasm backend with
// WebAssembly SIMD, float32, widths the kernels take). Outputs are plain tensors (no gradient is recorded: the
// compiled step is its own backward).
//
// Dense layers' forward matmuls (else tf.matMul): XNNPACK packs the
// right-hand matrix of every matmul whose weights it has not seen, which in training is every step: measured on
// wasm (fresh weights each call, as in training): [32, 784] x [784, 128] 0.50 ms against 0.13 ms here, [32, 64]
// x [64, 1568] 0.79 against 0.30, [512, 784] x [784, 128] 3.2 against 2.0. (The weight gradient x^T dz as the
// filter-gradient kernel was not faster than XNNPACK with the transpose materialised, and is not used.)
import * as tf from "@tensorflow/tfjs-core";
import { simdKernels, type SimdKernels } from "./simd-kernels.ts";
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
  const simd = simdFor(n, 8, a, b, ...(bias ? [bias] : []));
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

/** Per-channel sums over every axis but the last of t, c = t - shift and p = c * (u - shift) (see channelSums). */
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
 * (a relu's output), t counts only where the gate is positive. Undefined where the SIMD kernels do not apply
 * (channels not a multiple of 4, not wasm): callers use tf ops.
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
  const { backend, kernels } = simd;
  const rows = t.size / c;
  const zeros = shift ? undefined : backend.makeOutput([c], "float32");
  const scratch = backend.makeOutput([4 * c], "float32"); // 2c float64
  const mean = backend.makeOutput([c], "float32");
  const productMean = backend.makeOutput([c], "float32");
  const centered = keep ? backend.makeOutput([...t.shape], "float32") : undefined;
  // Views after the allocations: a heap that grows detaches older ones.
  if (zeros) backend.typedArrayFromHeap(zeros).fill(0);
  const at = (x: { dataId: tf.DataId }) => backend.getMemoryOffset(x.dataId);
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
  backend.disposeData(scratch.dataId);
  if (zeros) backend.disposeData(zeros.dataId);
  const tensor = (x: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(x, backend);
  return {
    mean: tensor(mean) as tf.Tensor1D,
    productMean: tensor(productMean) as tf.Tensor1D,
    ...(centered ? { centered: tensor(centered) } : {}),
  };
}

/** A per-channel affine's options: t * scale + plus.t * plus.scale + shift, then relu; t gated by gate > 0. */
export interface AffineOptions {
  shift?: tf.Tensor | undefined;
  plus?: { t: tf.Tensor; scale: tf.Tensor } | undefined;
  relu?: boolean;
  gate?: tf.Tensor | undefined;
}

/**
 * t * scale + plus.t * plus.scale + shift per channel (the last axis; scales and shift [C]; plus and shift
 * optional), then relu if asked, in one pass; with a gate (a relu's output), t counts only where the gate is
 * positive. Undefined where the SIMD kernels do not apply.
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
  const { backend, kernels } = simd;
  const zeros = shift && plus ? undefined : backend.makeOutput([c], "float32");
  const out = backend.makeOutput([...t.shape], "float32");
  if (zeros) backend.typedArrayFromHeap(zeros).fill(0);
  const at = (x: { dataId: tf.DataId }) => backend.getMemoryOffset(x.dataId);
  // No second term: t again with a scale of 0.
  kernels.channelAffine(
    at(t),
    gate ? at(gate) : 0,
    at(scale),
    at(plus?.t ?? t),
    at(plus?.scale ?? zeros!),
    at(shift ?? zeros!),
    at(out),
    t.size / c,
    c,
    relu ? 1 : 0,
  );
  if (zeros) backend.disposeData(zeros.dataId);
  return tf.engine().makeTensorFromTensorInfo(out, backend);
}
