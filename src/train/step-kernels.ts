// Training: step-kernels.wat (its committed binary) instantiated on tfjs-backend-wasm's heap -> the optimizer's
// update as one SIMD call over parameters, gradients and slots in that heap, and max pooling's gradient as one
// pass, by byte address.
import type { WasmHeap } from "./tensor-memory.ts";
import { STEP_KERNELS_WASM } from "./step-kernels-binary.ts";

export interface StepKernels {
  /** Keras Adam over n float32 values at byte addresses (step-kernels.wat). */
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
  ): void;
  /** Max pooling's input gradient for tiling windows, NHWC, at byte addresses (step-kernels.wat). */
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
}

// The global WebAssembly API (Node has it; the project's TypeScript libs do not declare it).
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;

let compiled: object | undefined | null;
const instances = new WeakMap<object, StepKernels>();

/** The kernels on `heap`'s memory, or undefined where WebAssembly SIMD is unavailable (then JS updates). */
export function wasmStepKernels(heap: WasmHeap): StepKernels | undefined {
  const memory = heap.memory;
  if (!memory || !WA) return undefined;
  const known = instances.get(memory);
  if (known) return known;
  if (compiled === undefined) {
    try {
      compiled = new WA.Module(Buffer.from(STEP_KERNELS_WASM, "base64"));
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return undefined;
  let kernels: StepKernels;
  try {
    kernels = new WA.Instance(compiled, { tfjs: { memory } }).exports as unknown as StepKernels;
  } catch {
    return undefined;
  }
  instances.set(memory, kernels);
  return kernels;
}
