// Runtime: a second thread inside one training step. Where tfjs-backend-wasm's heap is shared (shared-heap.ts), a
// helper thread instantiates nnc's SIMD kernels on the same memory, and each large kernel call is split in two
// (the GEMMs by output rows or filter taps, the elementwise passes by rows): the helper runs its share while the
// main thread runs the other, then the main thread waits for it. Nothing is copied and nothing is exchanged: the
// two shares write disjoint parts of one output, each element computed by the same code in the same order as on
// one thread, so results are bit for bit those of one thread (test/runtime/kernel-helper.test.ts).
//
// Data-parallel threads (src/train/parallel/) split the batch instead and exchange gradients and batchnorm
// statistics every step, which costs more than a small step takes: with the BN MLP at batch 32/128 two such
// threads were slower than one. A split kernel costs one post and one wait (microseconds while the helper spins).
//
// Measured on this machine, [m, 784] x [784, 128] as convForward, one thread -> two: m = 32 0.18 -> 0.12 ms, 128
// 0.60 -> 0.33 ms, 512 2.37 -> 1.23 ms.
import { setFlagsFromString } from "node:v8";
import { startWorkerAsync } from "../util/worker-entry.ts";
import type { SimdKernels, WebAssemblyApi } from "./simd-kernels.ts";

/** Control words (Int32Array indices). */
const POSTED = 0; // sequence number of the last share posted
const DONE = 1; // sequence number of the last share finished
const READY = 2; // 1 once the helper has its kernels
const KERNEL = 3; // index in SPLIT of the posted share's kernel
const FAILED = 4; // 1 when the last share threw (its message in the error bytes)
const CONTROL_BYTES = 64;
const MAX_ARGS = 16;
const ERROR_BYTES = 1024;

/** The kernels a share can run, by index. */
const SPLIT = ["convForward", "convFilterGrad", "adam", "channelAffine", "maxPoolGrad", "padImages"] as const;
type SplitKernel = (typeof SPLIT)[number];

/** What the helper thread is started with. */
export interface HelperData {
  /** The kernels' binary for a shared heap, compiled by the helper itself (see helperLoop). */
  bytes: Uint8Array;
  memory: object;
  control: SharedArrayBuffer;
}

/**
 * How long the helper spins for the next share before it sleeps: a step posts one every ~0.05-1 ms, and a thread
 * woken from Atomics.wait starts late on this machine's vCPUs (src/train/parallel/exchange.ts measured it);
 * between epochs and after training it sleeps.
 */
const SPIN_MS = 5;
/**
 * A helper share finishing this much (ms) after the main thread's own share took it to finish counts as a
 * strike; with the decay, about four strikes in a row pause splitting (Helper.settle).
 */
const LATE_MS = 0.5;
const STRIKE_DECAY = 0.95;
const MAX_STRIKES = 3;
const PAUSE_MS = 2000;
/** How long the main thread waits for a share before it gives up on the helper (a share takes milliseconds). */
const STALL_MS = 60_000;

/** The helper thread's loop (kernel-helper-worker.ts): runs posted shares (until the process ends: unref'd). */
export function helperLoop(data: HelperData): void {
  // Compiled here from the bytes: a WebAssembly.Module compiled on the main thread and posted here ran its SIMD
  // loops on V8's baseline code in this thread for its first few hundred calls (measured: half of [128, 784] x
  // [784, 128] 3.1 ms, then 0.29 once tiered up). Compiled with the optimizing compiler from the start instead:
  // Liftoff off just around this compile (left alone where the process runs without it anyway).
  const WA = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  const liftoff = !process.execArgv.includes("--no-liftoff");
  if (liftoff) setFlagsFromString("--no-liftoff");
  const module = new WA.Module(data.bytes);
  if (liftoff) setFlagsFromString("--liftoff");
  const instance = new WA.Instance(module, { tfjs: { memory: data.memory } });
  const kernels = instance.exports as Record<SplitKernel, (...args: number[]) => void>;
  const control = new Int32Array(data.control, 0, CONTROL_BYTES / 4);
  const args = new Float64Array(data.control, CONTROL_BYTES, MAX_ARGS);
  const error = new Uint8Array(data.control, CONTROL_BYTES + MAX_ARGS * 8, ERROR_BYTES);
  // What was posted before this thread was ready is not its share (the main thread ran those calls whole):
  // read it before saying ready, so that the first share posted after cannot be mistaken for one of them.
  let seen = Atomics.load(control, POSTED);
  Atomics.store(control, READY, 1);
  for (;;) {
    let posted = Atomics.load(control, POSTED);
    let until = performance.now() + SPIN_MS;
    for (let polls = 1; posted === seen; polls++) {
      if ((polls & 1023) === 0 && performance.now() > until) {
        Atomics.wait(control, POSTED, seen);
        until = performance.now() + SPIN_MS;
      }
      posted = Atomics.load(control, POSTED);
    }
    seen = posted;
    const kernel = SPLIT[Atomics.load(control, KERNEL)]!;
    try {
      kernels[kernel](...Array.from(args.subarray(0, ARITY[kernel])));
      Atomics.store(control, FAILED, 0);
    } catch (e) {
      const text = new TextEncoder().encode(`${kernel}: ${e instanceof Error ? e.message : String(e)}`);
      error.fill(0);
      error.set(text.subarray(0, ERROR_BYTES - 1));
      Atomics.store(control, FAILED, 1);
    }
    Atomics.store(control, DONE, seen);
    Atomics.notify(control, DONE);
  }
}

const ARITY: Record<SplitKernel, number> = {
  convForward: 13,
  convFilterGrad: 12,
  adam: 13,
  channelAffine: 10,
  maxPoolGrad: 10,
  padImages: 10,
};

/** A helper thread on one shared heap, and the words it is driven by. */
class Helper {
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private readonly error: Uint8Array;
  private posted = 0;
  broken: string | undefined;
  /** Recent shares the helper finished late (decaying count), and until when splitting pauses because of them. */
  private strikes = 0;
  private pausedUntil = 0;

  constructor(bytes: Uint8Array, memory: object) {
    const buffer = new SharedArrayBuffer(CONTROL_BYTES + MAX_ARGS * 8 + ERROR_BYTES);
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.args = new Float64Array(buffer, CONTROL_BYTES, MAX_ARGS);
    this.error = new Uint8Array(buffer, CONTROL_BYTES + MAX_ARGS * 8, ERROR_BYTES);
    const data: HelperData = { bytes, memory, control: buffer };
    // Started without blocking (in a checkout its entry is bundled first, ~0.1 s): kernels run whole until it is
    // ready. It must not keep the process alive, and a helper that fails to start only means one thread.
    startWorkerAsync(import.meta.url, "kernel-helper-worker", { workerData: data }).then(
      (worker) => {
        worker.unref();
        worker.on("error", (e) => (this.broken = `the kernel helper thread failed: ${e.message}`));
        worker.on("exit", () => (this.broken ??= "the kernel helper thread exited"));
      },
      (e: unknown) => (this.broken = `the kernel helper thread did not start: ${(e as Error).message}`),
    );
  }

  get ready(): boolean {
    return (
      this.broken === undefined &&
      Atomics.load(this.control, READY) === 1 &&
      performance.now() >= this.pausedUntil
    );
  }

  /**
   * Records how a split call went: `own` ms for this thread's share, then `late` ms waiting for the helper's. A
   * helper far behind means its core is busy with something else (another process): there a split call waited
   * ~6-8 ms for a share of 0.3 ms (measured while a test suite ran on the other core), so after about four such
   * calls in a row splitting pauses for a while (PAUSE_MS) and is tried again after.
   */
  settle(own: number, late: number): void {
    if (!pauseWhenLate) return;
    this.strikes = this.strikes * STRIKE_DECAY + (late > own + LATE_MS ? 1 : 0);
    if (this.strikes > MAX_STRIKES) {
      this.strikes = 0;
      this.pausedUntil = performance.now() + PAUSE_MS;
    }
  }

  /** Posts a share of `kernel` to the helper: call `join` before anything reads its output. */
  post(kernel: SplitKernel, args: number[]): void {
    this.args.set(args);
    Atomics.store(this.control, KERNEL, SPLIT.indexOf(kernel));
    Atomics.store(this.control, POSTED, ++this.posted);
    Atomics.notify(this.control, POSTED);
  }

  /** Waits for the posted share; throws what it threw. */
  join(): void {
    let done = Atomics.load(this.control, DONE);
    for (let polls = 0; done !== this.posted && polls < 1 << 20; polls++)
      done = Atomics.load(this.control, DONE);
    const start = performance.now();
    while (done !== this.posted) {
      Atomics.wait(this.control, DONE, done, 10);
      done = Atomics.load(this.control, DONE);
      if (done !== this.posted && performance.now() - start > STALL_MS) {
        this.broken = `the kernel helper thread has not answered for ${STALL_MS / 1000} s`;
        throw new Error(`internal: ${this.broken}`);
      }
    }
    if (Atomics.load(this.control, FAILED)) {
      const text = new TextDecoder().decode(this.error.slice(0, this.error.indexOf(0)));
      throw new Error(`internal: kernel helper thread: ${text}`);
    }
  }
}

const helpers = new WeakMap<object, Helper>();
/** Whether kernels split now (kernelThreads(2): a training run that planned it). */
let splitting = false;
/** Whether a helper that falls behind pauses splitting (Helper.settle); tests that count splits turn it off. */
let pauseWhenLate = true;

/** Tests: splitting never pauses for a late helper (so that what they count was split), or does again. */
export function pauseSplittingWhenLate(pause: boolean): void {
  pauseWhenLate = pause;
}

/** Calls split so far, by kernel (tests check that splitting happened). */
const splitCalls = new Map<SplitKernel, number>();

/** How many calls of each kernel were split so far in this process. */
export function kernelSplitCalls(): Record<string, number> {
  return Object.fromEntries(splitCalls);
}

/**
 * Two kernel threads (the helper) or one from now on. Two starts the helper of `memory`'s heap if it has none
 * (it is ready a few tens of milliseconds later: until then kernels run whole on this thread); one leaves it
 * asleep for the next run.
 */
export function kernelThreads(
  threads: 1 | 2,
  memory: object | undefined,
  bytes: Uint8Array | undefined,
): void {
  splitting = threads === 2 && memory !== undefined && bytes !== undefined;
  if (splitting && !helpers.has(memory!)) helpers.set(memory!, new Helper(bytes!, memory!));
}

/** Why `memory`'s helper thread cannot take shares, if it failed (for a note on the run). */
export function kernelHelperProblem(memory: object | undefined): string | undefined {
  return memory === undefined ? undefined : helpers.get(memory)?.broken;
}

/** Calls split so far in this process, all kernels together. */
export function kernelSplitTotal(): number {
  let total = 0;
  for (const n of splitCalls.values()) total += n;
  return total;
}

/** Whether the helper of `memory`'s heap is splitting kernels now (for messages and tests). */
export function kernelHelperReady(memory: object | undefined): boolean {
  return splitting && memory !== undefined && helpers.get(memory)?.ready === true;
}

/**
 * Work (multiply-adds, or values of a pass) below which a call runs whole on this thread: the post and the wait
 * cost a few microseconds, ~100k multiply-adds' worth.
 */
const MIN_SPLIT_MACS = 200_000;
const MIN_SPLIT_VALUES = 32_768;

/** `total` split at a multiple of `align`, the first share about half: the main thread's. */
const firstShare = (total: number, align: number) => Math.floor(total / 2 / align) * align;

/**
 * `kernels` with the splittable ones split over the helper of `memory` whenever kernelThreads(2) is in effect and
 * the helper is ready; the others, and small calls, run whole here.
 */
export function splitKernels(kernels: SimdKernels, memory: object): SimdKernels {
  const helper = (work: number, min: number) => {
    if (!splitting || work < min) return undefined;
    const h = helpers.get(memory);
    return h?.ready ? h : undefined;
  };
  /** Runs `mine` here and `theirs` on the helper at once. */
  const both = (h: Helper, kernel: SplitKernel, mine: number[], theirs: number[]) => {
    const start = performance.now();
    h.post(kernel, theirs);
    let mineDone = start;
    try {
      (kernels[kernel] as (...a: number[]) => void)(...mine);
      mineDone = performance.now();
    } finally {
      h.join();
    }
    h.settle(mineDone - start, performance.now() - mineDone);
    splitCalls.set(kernel, (splitCalls.get(kernel) ?? 0) + 1);
  };
  return {
    ...kernels,
    convForward(x, w, bias, out, offs, K, co, n, oh, ow, imageStep, rowStep, colStep) {
      const h = helper(n * oh * ow * K * co, MIN_SPLIT_MACS);
      // By images, at a multiple of the 4-pixel register tile where an image is one pixel (a matmul's rows).
      const first = h && firstShare(n, oh * ow === 1 ? 4 : 1);
      if (!h || !first)
        return kernels.convForward(x, w, bias, out, offs, K, co, n, oh, ow, imageStep, rowStep, colStep);
      const rest = [offs, K, co];
      const steps = [imageStep, rowStep, colStep];
      const outImage = oh * ow * co * 4;
      both(
        h,
        "convForward",
        [x, w, bias, out, ...rest, first, oh, ow, ...steps],
        [x + first * imageStep, w, bias, out + first * outImage, ...rest, n - first, oh, ow, ...steps],
      );
    },
    convFilterGrad(x, dz, dw, offs, K, co, n, oh, ow, imageStep, rowStep, colStep) {
      const h = helper(n * oh * ow * K * co, MIN_SPLIT_MACS);
      // By taps (rows of dw), at a multiple of the 4-tap register tile.
      const first = h && firstShare(K, 4);
      if (!h || !first)
        return kernels.convFilterGrad(x, dz, dw, offs, K, co, n, oh, ow, imageStep, rowStep, colStep);
      const rest = [co, n, oh, ow, imageStep, rowStep, colStep];
      both(
        h,
        "convFilterGrad",
        [x, dz, dw, offs, first, ...rest],
        [x, dz, dw + first * co * 4, offs + first * 4, K - first, ...rest],
      );
    },
    adam(w, out, g, m, v, n, ...scalars) {
      const h = helper(n, MIN_SPLIT_VALUES);
      const first = h && firstShare(n, 4);
      if (!h || !first) return kernels.adam(w, out, g, m, v, n, ...scalars);
      const at = (address: number) => address + first * 4;
      both(
        h,
        "adam",
        [w, out, g, m, v, first, ...scalars],
        [at(w), at(out), at(g), at(m), at(v), n - first, ...scalars],
      );
    },
    channelAffine(x, gate, scale, y, yScale, shift, out, m, c, relu) {
      const h = helper(m * c, MIN_SPLIT_VALUES);
      const first = h && firstShare(m, 1);
      if (!h || !first) return kernels.channelAffine(x, gate, scale, y, yScale, shift, out, m, c, relu);
      const rows = (address: number) => (address === 0 ? 0 : address + first * c * 4);
      both(
        h,
        "channelAffine",
        [x, gate, scale, y, yScale, shift, out, first, c, relu],
        [rows(x), rows(gate), scale, rows(y), yScale, shift, rows(out), m - first, c, relu],
      );
    },
    maxPoolGrad(x, y, dy, out, n, h, w, c, ph, pw) {
      const helperThread = helper(n * h * w * c, MIN_SPLIT_VALUES);
      const first = helperThread && firstShare(n, 1);
      if (!helperThread || !first) return kernels.maxPoolGrad(x, y, dy, out, n, h, w, c, ph, pw);
      const image = h * w * c * 4;
      const pooled = (h / ph) * (w / pw) * c * 4;
      both(
        helperThread,
        "maxPoolGrad",
        [x, y, dy, out, first, h, w, c, ph, pw],
        [
          x + first * image,
          y + first * pooled,
          dy + first * pooled,
          out + first * image,
          n - first,
          h,
          w,
          c,
          ph,
          pw,
        ],
      );
    },
    padImages(x, out, n, h, w, c, top, bottom, left, right) {
      const helperThread = helper(n * h * w * c, MIN_SPLIT_VALUES);
      const first = helperThread && firstShare(n, 1);
      if (!helperThread || !first) return kernels.padImages(x, out, n, h, w, c, top, bottom, left, right);
      const padded = (h + top + bottom) * (w + left + right) * c * 4;
      both(
        helperThread,
        "padImages",
        [x, out, first, h, w, c, top, bottom, left, right],
        [x + first * h * w * c * 4, out + first * padded, n - first, h, w, c, top, bottom, left, right],
      );
    },
  };
}
