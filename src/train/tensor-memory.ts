// Training: float32 tensors and variables -> their values as typed arrays, and fresh buffers for the variables'
// next values, so the trainer updates every parameter in one JS pass instead of ~10 kernels per weight. On wasm
// the arrays are views of the backend's heap (no copy, no kernel); elsewhere copies.
import * as tf from "@tensorflow/tfjs-core";
import type { WasmBackend } from "../runtime/wasm-kernels.ts";

/** tfjs-backend-wasm's heap, when it is the active backend. */
export interface WasmHeap {
  /** The heap's WebAssembly.Memory (simd-kernels.ts imports it), if the module exports it. */
  memory: object | undefined;
  /** A tensor's (or TensorInfo's) values as a view of the heap: valid until the heap grows. */
  view(t: { shape: number[]; dtype: tf.DataType; dataId: tf.DataId }): Float32Array;
  /** A tensor's byte address in the heap (fixed for its lifetime). */
  pointer(t: { dataId: tf.DataId }): number;
  /** Allocates an uninitialised float32 buffer of `shape` (the backend's own output allocation). */
  allocate(shape: number[]): tf.TensorInfo;
}

/** The values for one update of some variables; `commit()` makes `next` their values. */
export interface OpenUpdate {
  /** The values of the `read` tensors. */
  read: Float32Array[];
  /** Each variable's current values. */
  current: Float32Array[];
  /** Each variable's next values, to be filled in full (fresh memory, not initialised). */
  next: Float32Array[];
  /** On wasm: the same as byte addresses in the heap, for simd-kernels.ts. */
  pointers?: { read: number[]; current: number[]; next: number[] };
  commit(): void;
  /** Gives back the `next` memory without changing any variable (an update that failed midway). */
  abort(): void;
}

/** Runs `fill` on an open update and commits it; if `fill` throws, the fresh memory is given back first. */
export function runUpdate(open: OpenUpdate, fill: (open: OpenUpdate) => void): void {
  try {
    fill(open);
  } catch (e) {
    open.abort();
    throw e;
  }
  open.commit();
}

/** Copies a float32 tensor's values into `target` at `offset`: straight from the heap on wasm (no array made). */
export function readInto(t: tf.Tensor, target: Float32Array, offset = 0): void {
  const heap = wasmHeap();
  target.set(heap ? heap.view(t) : (t.dataSync() as Float32Array), offset);
}

export function wasmHeap(): WasmHeap | undefined {
  if (tf.getBackend() !== "wasm") return undefined;
  const b = tf.backend() as unknown as Partial<WasmBackend>;
  if (
    typeof b.typedArrayFromHeap !== "function" ||
    typeof b.makeOutput !== "function" ||
    typeof b.getMemoryOffset !== "function"
  ) {
    return undefined;
  }
  const backend = b as WasmBackend;
  return {
    memory: backend.wasm?.asm?.memory,
    view: (t) => backend.typedArrayFromHeap(t),
    pointer: (t) => backend.getMemoryOffset(t.dataId),
    allocate: (shape) => backend.makeOutput(shape, "float32"),
  };
}

/**
 * Opens an update of `vars` that reads `read`. The next values go to new memory, never over the current ones:
 * wasm's XNNPACK matmul and conv2d cache their packed weights by tensor id, so a weight changed in place would
 * keep being multiplied with its old values (measured). New data under the variable drops that cache entry.
 * On wasm all memory is allocated before any view is taken (a heap that grows detaches older views); use the
 * arrays before the next tensor is made.
 */
export function openUpdate(read: tf.Tensor[], vars: tf.Variable[]): OpenUpdate {
  for (const t of [...read, ...vars]) {
    if (t.dtype !== "float32") throw new Error(`internal: ${t.dtype} tensor in a float32 update`);
  }
  const heap = wasmHeap();
  if (heap) {
    const outputs = vars.map((v) => heap.allocate([...v.shape]));
    return {
      read: read.map((t) => heap.view(t)),
      current: vars.map((v) => heap.view(v)),
      next: outputs.map((o) => heap.view(o)),
      pointers: {
        read: read.map((t) => heap.pointer(t)),
        current: vars.map((v) => heap.pointer(v)),
        next: outputs.map((o) => heap.pointer(o)),
      },
      commit: () => {
        vars.forEach((v, i) => {
          const t = tf.engine().makeTensorFromTensorInfo(outputs[i]!, tf.backend());
          v.assign(t);
          t.dispose();
        });
      },
      // makeOutput's buffers belong to no tensor until commit: nothing else would ever free them.
      abort: () => outputs.forEach((o) => tf.backend().disposeData(o.dataId)),
    };
  }
  // On the cpu backend dataSync returns the backend's own array: read only. tf.tensor keeps `next` (fresh).
  const next = vars.map((v) => new Float32Array(v.size));
  return {
    read: read.map((t) => t.dataSync() as Float32Array),
    current: vars.map((v) => v.dataSync() as Float32Array),
    next,
    commit: () => {
      vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(next[i]!, v.shape, "float32"))));
    },
    abort: () => {},
  };
}
