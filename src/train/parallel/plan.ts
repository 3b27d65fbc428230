// How a run uses the cores: how many training threads, and whether the one training thread splits its kernels
// over a second core (src/runtime/kernel-helper.ts). `auto` splits kernels where the wasm heap is shared, except
// for convnets whose steps are large enough for data-parallel threads: there the per-step work must dwarf what a
// step's exchanges cost (a few barriers of ~10-50 us each, the gradients copied out and back), and the run must
// be long enough to repay starting the threads (each loads its own tfjs backend and wasm module: a few hundred
// ms). Measured (docs/speed.md, "Two cores" and "Two cores inside one step").
import { availableParallelism } from "node:os";
import { NncError } from "../../diagnostics/index.ts";
import type { Model, Optimizer } from "../../ir/schema.ts";
import { estimateTrainingMemory, machineMemory, trainingMemoryProblem } from "../../ir/training-memory.ts";
import type { BackendName } from "../../runtime/types.ts";
import { forwardMacs } from "../../ir/flops.ts";
import { nodesByName } from "../../ir/graph.ts";

export type ThreadsChoice = number | "auto";
/**
 * How a second core helps: `data` trains each thread on its share of every batch (its own backend and copy of
 * the weights; the gradients and batchnorm statistics exchanged), `kernels` splits each large SIMD kernel of the
 * one training thread with a helper thread on the same heap (src/runtime/kernel-helper.ts; results bit for bit
 * those of one thread).
 */
export type Parallelism = "data" | "kernels";

/**
 * A step's work in dense-equivalent multiply-adds per sample: each node's forward multiply-adds as its op counts
 * them (src/ir/flops.ts), those over images (a per-sample output of rank > 1: the convolutions) counted twice (a
 * conv's multiply-adds cost more per step than a dense layer's: with nnc's SIMD kernels on wasm convnet-bn at
 * batch 32 takes 7.7 ms/step for 36M multiply-adds, the MLP at batch 512 9.2 ms for 56M; before them, 13.6 ms
 * against 10.9).
 */
export function stepWorkPerSample(model: Model): number {
  const nodes = nodesByName(model);
  let work = 0;
  for (const layer of model.layers) {
    const spatial = (layer.outputShape ?? []).length > 2;
    work += forwardMacs(layer, model, nodes) * (spatial ? 2 : 1);
  }
  return work;
}

/**
 * Work per step from which `auto` uses two threads. Measured with 2 threads against 1 (docs/speed.md): the BN
 * MLP 0.77x at batch 256 (28M), 1.15-1.56x at 512 (56M); convnet-bn 1.09x at batch 16 (36M), 1.06-1.21x at 32,
 * 1.35x at 64 and 1.3-1.5x at 128.
 */
export const AUTO_MIN_STEP_WORK = 32e6;
/** Steps per run below which `auto` keeps one thread (starting the others would not pay back). */
export const AUTO_MIN_STEPS = 200;

/** Beyond any core count this targets; the shared slots grow with the thread count. */
export const MAX_THREADS = 64;

export interface ThreadsPlan {
  /** Training threads: more than one is data-parallel. */
  threads: number;
  /** One training thread whose kernels split over a second core. */
  splitKernels?: boolean;
  /** Why, when fewer threads than asked for (or than `auto` would use on the work alone). */
  why?: string;
}

export function planThreads(o: {
  requested: ThreadsChoice | undefined;
  model: Model;
  batch: number;
  /** Steps the run will take (all epochs). */
  steps: number;
  /** Whether the compiled step covers the network (data-parallel training runs only that step). */
  compiledStep: boolean;
  backend: BackendName;
  /** How threads are used when more than one is asked for; absent: `auto` decides, a number means data. */
  parallel?: Parallelism;
  /** Whether kernels can split over a second core here (the wasm heap is shared: kernelSplitAvailable). */
  kernelSplit?: boolean;
  /**
   * The run's optimizer: with it, threads are held to memory (each has its own copy of everything, and on wasm
   * its own heap): `auto` keeps one thread where more would not fit, and a number that would not fit is E636/E637.
   */
  optimizer?: Optimizer;
}): ThreadsPlan {
  const requested = o.requested ?? "auto";
  if (requested !== "auto" && !(Number.isInteger(requested) && requested >= 1 && requested <= MAX_THREADS))
    throw new Error(
      `threads must be "auto" or an integer from 1 to ${MAX_THREADS}, got ${String(requested)}`,
    );
  if (requested === 1) return { threads: 1 };
  if (o.parallel === "kernels") {
    if (!o.kernelSplit)
      return {
        threads: 1,
        why: "kernels split only on the wasm backend with a shared heap, where the machine has two cores",
      };
    return {
      threads: 1,
      splitKernels: true,
      ...(typeof requested === "number" && requested > 2 ? { why: "kernels split over two threads" } : {}),
    };
  }
  const kernelsInstead = (why?: string): ThreadsPlan =>
    requested === "auto" && o.kernelSplit && o.parallel === undefined
      ? { threads: 1, splitKernels: true }
      : { threads: 1, ...(why ? { why } : {}) };
  if (!o.compiledStep)
    return kernelsInstead(
      "the network has a layer the compiled training step does not cover (autograd runs one thread)",
    );
  const tooLarge = (threads: number) => {
    if (!o.optimizer) return undefined;
    const settings = { batch: o.batch, optimizer: o.optimizer };
    const e = estimateTrainingMemory(o.model, settings, o.backend, threads);
    // This thread's share is allocated by now (or about to be): what is free must hold the rest.
    const machine = machineMemory();
    const own = estimateTrainingMemory(o.model, settings, o.backend, 1).total;
    const what = `model '${o.model.name}' at batch ${o.batch} on ${o.backend} with ${threads} threads`;
    return trainingMemoryProblem(e, what, { ...machine, available: machine.available + own });
  };
  if (requested !== "auto") {
    const problem = requested > 1 ? tooLarge(requested) : undefined;
    if (problem) throw new NncError(problem);
    return { threads: requested };
  }
  // tfjs-node's native kernels use every core already.
  if (o.backend === "tensorflow") return { threads: 1 };
  if (availableParallelism() < 2) return { threads: 1 };
  if (o.parallel !== "data" && o.kernelSplit && !dataParallelPays(o.model, o.batch)) return kernelsInstead();
  if (o.batch * stepWorkPerSample(o.model) < AUTO_MIN_STEP_WORK || o.steps < AUTO_MIN_STEPS)
    return kernelsInstead();
  const problem = tooLarge(2);
  if (problem) return kernelsInstead(`two threads would not fit in memory: ${problem.message}`);
  return { threads: 2 };
}

/**
 * Whether `auto` prefers data-parallel threads to split kernels: where the step is mostly work the kernel helper
 * cannot split (tfjs' own kernels: XNNPACK's convolutions) and large enough to repay the exchanges. Measured
 * (docs/speed.md, "Two cores inside one step"; samples/s, one thread / kernels split / data-parallel, ranges
 * of three alternating runs in one process): BN MLP batch 128 39-47k / 40-62k / 26-31k, batch 512 48-55k /
 * 50-78k / 56-62k; MLP batch 512 46-50k / 37-72k / 43-61k; convnet-bn batch 128 2.6-3.7k / 3.1-3.7k / 3.8-4.4k.
 */
export function dataParallelPays(model: Model, batch: number): boolean {
  const spatial = model.layers.some((l) => (l.outputShape ?? []).length > 2);
  return spatial && batch * stepWorkPerSample(model) >= AUTO_MIN_STEP_WORK;
}
