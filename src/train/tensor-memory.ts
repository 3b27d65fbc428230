// Training: float32 tensors and variables -> their values as typed arrays, and where the variables' next values
// go, so the trainer updates every parameter in one JS pass instead of ~10 kernels per weight. On wasm the arrays
// are views of the backend's heap (no copy, no kernel) and a variable is updated in place; elsewhere copies and
// fresh buffers.
import * as tf from "@tensorflow/tfjs-core";
import type { WasmBackend } from "../runtime/wasm-kernels.ts";
import { IN_PLACE_MIN_VALUES } from "../ir/training-memory.ts";
import { sizeOf } from "../util/shape.ts";

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
  /** Whether no other tensor shares the variable's memory (it may then change in place). */
  exclusive(t: { dataId: tf.DataId }): boolean;
  /**
   * Drops what the backend cached of a tensor's values (XNNPACK's packed kernels, keyed by the tensor's id) after
   * they changed in place: the id is unregistered, which deletes its cached operators, and registered again at
   * the same memory. False where the backend does not expose that bookkeeping.
   */
  invalidate(t: { dataId: tf.DataId; shape: number[] }): boolean;
}

/** The parts of tfjs-backend-wasm's bookkeeping `invalidate` uses (BackendWasm.dataIdMap, wasm.tfjs). */
interface WasmBookkeeping {
  dataIdMap?: { get(dataId: tf.DataId): { id: number; memoryOffset: number; refCount: number } | undefined };
  wasm?: {
    tfjs?: {
      registerTensor?: (id: number, size: number, memoryOffset: number) => void;
      disposeData?: (id: number) => void;
    };
  };
}

/** The values for one update of some variables; `commit()` makes `next` their values. */
export interface OpenUpdate {
  /** The values of the `read` tensors. */
  read: Float32Array[];
  /** Each variable's current values. */
  current: Float32Array[];
  /**
   * Each variable's next values, to be filled in full: fresh memory (not initialised), or on wasm the current
   * values themselves (updated in place: element j is written after it is read).
   */
  next: Float32Array[];
  /** On wasm: the same as byte addresses in the heap, for simd-kernels.ts. */
  pointers?: { read: number[]; current: number[]; next: number[] };
  commit(): void;
  /**
   * Gives back the `next` memory (an update that failed midway); a variable updated in place keeps what was
   * written.
   */
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
  const books = b as unknown as WasmBookkeeping;
  const entry = (t: { dataId: tf.DataId }) => books.dataIdMap?.get(t.dataId);
  const tfjs = books.wasm?.tfjs;
  const canInvalidate = typeof tfjs?.registerTensor === "function" && typeof tfjs.disposeData === "function";
  return {
    memory: backend.wasm?.asm?.memory,
    view: (t) => backend.typedArrayFromHeap(t),
    pointer: (t) => backend.getMemoryOffset(t.dataId),
    allocate: (shape) => backend.makeOutput(shape, "float32"),
    exclusive: (t) => canInvalidate && entry(t)?.refCount === 1,
    invalidate: (t) => {
      const e = entry(t);
      if (!canInvalidate || !e) return false;
      tfjs!.disposeData!(e.id);
      tfjs!.registerTensor!(e.id, sizeOf(t.shape), e.memoryOffset);
      return true;
    },
  };
}

/**
 * Opens an update of `vars` that reads `read`. The next values go to fresh memory, never over the current ones,
 * except on wasm for a variable of IN_PLACE_MIN_VALUES or more whose memory no other tensor shares: that one is
 * updated in place (`next` is `current`: every rule writes element j after reading it). wasm's XNNPACK matmul and
 * conv2d cache their packed weights by tensor id, so a weight changed in place would keep being multiplied with
 * its old values (measured): new data under the variable drops that cache entry, and a variable updated in place
 * has its id registered anew (WasmHeap.invalidate). In place keeps a second copy of the largest weights off the
 * heap, and the heap from fragmenting: with fresh memory, dense 300000 after flatten (a 910 MiB kernel)
 * alternated two 910 MiB buffers beside its gradient and ran out of the 4 GiB heap at its first evaluation. On
 * wasm all memory is allocated before any view is taken (a heap that grows detaches older views); use the arrays
 * before the next tensor is made.
 */
export function openUpdate(read: tf.Tensor[], vars: tf.Variable[]): OpenUpdate {
  for (const t of [...read, ...vars]) {
    if (t.dtype !== "float32") throw new Error(`internal: ${t.dtype} tensor in a float32 update`);
  }
  const heap = wasmHeap();
  if (heap) {
    const inPlace = (v: tf.Variable) => v.size >= IN_PLACE_MIN_VALUES && heap.exclusive(v);
    const outputs = vars.map((v) => (inPlace(v) ? undefined : heap.allocate([...v.shape])));
    const target = (i: number) => outputs[i] ?? vars[i]!;
    // Both ways, whatever was cached of the old values must go (in place, of values half updated on abort).
    const invalidateInPlace = () =>
      vars.forEach((v, i) => {
        if (!outputs[i]) heap.invalidate(v);
      });
    return {
      read: read.map((t) => heap.view(t)),
      current: vars.map((v) => heap.view(v)),
      next: vars.map((_, i) => heap.view(target(i))),
      pointers: {
        read: read.map((t) => heap.pointer(t)),
        current: vars.map((v) => heap.pointer(v)),
        next: vars.map((_, i) => heap.pointer(target(i))),
      },
      commit: () => {
        invalidateInPlace();
        vars.forEach((v, i) => {
          if (!outputs[i]) return;
          const t = tf.engine().makeTensorFromTensorInfo(outputs[i], tf.backend());
          v.assign(t);
          t.dispose();
        });
      },
      // makeOutput's buffers belong to no tensor until commit: nothing else would ever free them. A variable
      // updated in place keeps what was written: an update fails only on a broken heap, and training stops.
      abort: () => {
        invalidateInPlace();
        outputs.forEach((o) => o && tf.backend().disposeData(o.dataId));
      },
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
