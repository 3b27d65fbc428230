// Runtime: simd-kernels.wat (its committed binary) instantiated on tfjs-backend-wasm's heap -> kernels over
// tensors in that heap by byte address: the optimizer's update as one SIMD call over parameters, gradients and
// slots, max pooling's gradient as one pass, and a convolution's filter gradient as an implicit GEMM.
import { SIMD_KERNELS_WASM } from "./simd-kernels-binary.ts";
import { isShared, shareImportedMemory } from "./shared-heap.ts";
import { splitKernels } from "./kernel-helper.ts";

/**
 * The geometry of a convolution as an implicit GEMM (simd-kernels.wat): the address of K int32 byte offsets of
 * the filter taps from a pixel's window corner, K, output channels, output images, rows and columns, and the
 * byte steps between images, output rows and output columns in the input.
 */
export type ImplicitGemm = [
  offsets: number,
  K: number,
  co: number,
  n: number,
  oh: number,
  ow: number,
  imageStep: number,
  rowStep: number,
  colStep: number,
];

export interface SimdKernels {
  /**
   * Keras Adam over n float32 values at byte addresses, the gradient scaled by gscale and clamped to [-clip,
   * clip], the weight decayed by w * decay first (simd-kernels.wat; 1, Infinity, 0 for none).
   */
  adam(
    w: number,
    out: number,
    g: number,
    m: number,
    v: number,
    n: number,
    alpha: number,
    a1: number,
    a2: number,
    eps: number,
    gscale: number,
    clip: number,
    decay: number,
  ): void;
  /** Max pooling's input gradient for tiling windows, NHWC, at byte addresses (simd-kernels.wat). */
  maxPoolGrad(
    x: number,
    y: number,
    dy: number,
    out: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ph: number,
    pw: number,
  ): void;
  /**
   * A convolution's filter gradient, accumulated into dw [K, co] (simd-kernels.wat documents the layout; co a
   * multiple of 8, ow >= 1).
   */
  convFilterGrad(x: number, dz: number, dw: number, ...geometry: ImplicitGemm): void;
  /**
   * A convolution (or matmul) as an implicit GEMM into out [n, oh, ow, co] (simd-kernels.wat documents the
   * layout; co a multiple of 8, K >= 1; bias 0 for none).
   */
  convForward(x: number, w: number, bias: number, out: number, ...geometry: ImplicitGemm): void;
  /**
   * Per-channel means of x - shift and of (x - shift)(y - shift) over [m, c] rows, x gated by gate > 0 if gate
   * is non-zero (simd-kernels.wat).
   */
  channelSums(
    x: number,
    gate: number,
    y: number,
    shift: number,
    vOut: number,
    m: number,
    c: number,
    scratch: number,
    sums: number,
    products: number,
    scale: number,
  ): void;
  /**
   * out = x * scale + y * yScale + shift per channel over [m, c] rows, relu if non-zero, x gated by gate > 0 if
   * gate is non-zero (simd-kernels.wat).
   */
  channelAffine(
    x: number,
    gate: number,
    scale: number,
    y: number,
    yScale: number,
    shift: number,
    out: number,
    m: number,
    c: number,
    relu: number,
  ): void;
  /** Zero padding of NHWC images x [n, h, w, c] into out (simd-kernels.wat). */
  padImages(
    x: number,
    out: number,
    n: number,
    h: number,
    w: number,
    c: number,
    top: number,
    bottom: number,
    left: number,
    right: number,
  ): void;
}

// The global WebAssembly API (Node has it; the project's TypeScript libs do not declare it).
export interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** The module compiled for a plain heap and for a shared one (shared-heap.ts); null: it cannot be. */
const compiled = new Map<boolean, object | null>();
const instances = new WeakMap<object, SimdKernels>();

/**
 * The kernels on tfjs-backend-wasm's heap `memory` (its WebAssembly.Memory), or undefined where WebAssembly SIMD
 * is unavailable (callers then use tf ops or JS).
 */
export function simdKernels(memory: object | undefined): SimdKernels | undefined {
  if (!memory || !WA) return undefined;
  const known = instances.get(memory);
  if (known) return known;
  const shared = isShared(memory);
  const module = simdModule(shared);
  if (!module) return undefined;
  let kernels: SimdKernels;
  try {
    kernels = new WA.Instance(module, { tfjs: { memory } }).exports as unknown as SimdKernels;
    // On a shared heap the large calls can be split with a helper thread (kernel-helper.ts).
    if (shared) kernels = splitKernels(kernels, memory);
  } catch {
    return undefined;
  }
  instances.set(memory, kernels);
  return kernels;
}

/**
 * The compiled kernels for a plain or a shared heap (a shared memory links only to a module that declares its
 * import shared), or null where WebAssembly SIMD is unavailable. Compiled once per kind.
 */
export function simdModule(shared: boolean): object | null {
  let module = compiled.get(shared);
  if (module === undefined) {
    try {
      module = new WA!.Module(simdBinary(shared));
    } catch {
      module = null;
    }
    compiled.set(shared, module);
  }
  return module;
}

/** The kernels' binary, for a plain or a shared heap. */
export function simdBinary(shared: boolean): Uint8Array {
  const bytes = Buffer.from(SIMD_KERNELS_WASM, "base64");
  return shared ? shareImportedMemory(bytes) : bytes;
}
