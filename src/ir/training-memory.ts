// The IR: a checked model and its train settings -> the memory training it takes, part by part, on a backend, and
// the limits it must fit: the machine's memory, and on the wasm backend its heap's ceiling. Pure (no TensorFlow.js):
// the checker refuses what cannot fit this machine on any backend (E315, src/check/memory.ts); training refuses
// what cannot fit its backend or the memory free now (E636, E637) before it allocates; `nnc summary` shows the
// estimate; and the optimizer places its slots by the same rule as the estimate (slotsOnWasmHeap). The figures
// come from each node's inferred shape and parameters and its op's trainingCopies (src/ops/). Calibrated on the
// wasm heap (docs/memory.md): dense 100000 after flatten, sgd, batch 32 grew it to 4.4x its parameters' bytes in
// its second epoch (weights, their packed copy cached by evaluation, gradients, next values, activations), and
// Adam's two slots added 2x.
import { freemem, totalmem } from "node:os";
import { diagnostic, NncError, type Diagnostic } from "../diagnostics/index.ts";
import { opOf } from "../ops/index.ts";
import { NO_PARAMS } from "../ops/op.ts";
import { sizeOf } from "../util/shape.ts";
import type { Model, Optimizer, Span } from "./schema.ts";

/** Bytes of one value: every tensor nnc trains is float32. */
const FLOAT = 4;

/**
 * tfjs-backend-wasm's heap ceiling (its getHeapMax): 32-bit WebAssembly memory of at most 65,535 pages of 64 KiB.
 * Everything the backend holds lives in it: weights, gradients, activations, XNNPACK's packed kernels.
 */
export const WASM_HEAP_CEILING = 4294901760;

export type MemoryBackend = "wasm" | "cpu" | "tensorflow";

/**
 * What a training process holds whatever the model: Node.js, TensorFlow.js and its wasm module, nnc, and a data
 * set of MNIST's size. `nnc train specs/mnist-mlp.nn` peaked at 281 MiB resident.
 */
export const RUNTIME_BYTES = 256 * 2 ** 20;

/**
 * Values from which a weight is updated in place on wasm (src/train/tensor-memory.ts), 64 MiB: a fresh buffer for
 * its next values would cost the heap a second copy and fragment it. Smaller weights get fresh memory, so an
 * update that fails midway leaves them as they were.
 */
export const IN_PLACE_MIN_VALUES = 16 * 2 ** 20;

/** Inference batches are larger than training ones: no gradients to keep, fewer kernel dispatches. */
export const EVAL_BATCH = 1000;
/**
 * Values one layer's output may hold in an inference batch: a convnet's activations are large per sample
 * (convnet-bn's first: 28 x 28 x 16), and batches of 1000 grew the wasm heap (which never shrinks) by hundreds of
 * MB during evaluation and the exact batchnorm statistics.
 */
export const EVAL_BATCH_VALUES = 4 * 1024 * 1024;

/** Values of one sample at a node's output (the input's shape for the input). */
function perSample(node: Model["layers"][number]): number | undefined {
  const shape = (node.op === "input" ? node.shape : node.outputShape?.slice(1)) as number[] | undefined;
  return shape && shape.every((d) => typeof d === "number") ? sizeOf(shape) : undefined;
}

/**
 * The inference batch for a checked model (evaluation, prediction, exact population statistics): EVAL_BATCH
 * samples, fewer where a layer's output (the input's included) would pass EVAL_BATCH_VALUES.
 */
export function evalBatchOf(model: Model): number {
  let widest = 1;
  for (const layer of model.layers) widest = Math.max(widest, perSample(layer) ?? 1);
  return Math.max(1, Math.min(EVAL_BATCH, Math.floor(EVAL_BATCH_VALUES / widest)));
}

/** An optimizer's slot kinds, one buffer of every trainable weight's size each, as src/train/optimizers.ts names them. */
export function optimizerSlotNames(spec: Optimizer): string[] {
  switch (spec.type) {
    case "adam":
    case "adamw":
      return ["m", "v"];
    case "sgd":
      return spec.momentum === 0 ? [] : ["momentum"];
    case "rmsprop":
      return spec.momentum > 0 ? ["velocity", "momentum"] : ["velocity"];
  }
}

/**
 * Whether the optimizer keeps its slots on the wasm heap, where its SIMD update reads them (Adam), or in JS
 * memory with the JS update: on the heap while the trainable weights, their packed copies (cached by evaluation
 * until the next update), gradients and the slots take at most 3/4 of the ceiling (the rest is for activations
 * and the allocator). Above that (about 161 million trainable parameters with Adam) the slots would crowd out
 * what only the heap can hold.
 * One rule for the optimizer and the estimate, and for every data-parallel thread (they must update alike).
 */
export function slotsOnWasmHeap(spec: Optimizer, trainable: number): boolean {
  // Only Adam (and AdamW) has a SIMD update; the others run in JS anyway.
  if (spec.type !== "adam" && spec.type !== "adamw") return false;
  const slots = optimizerSlotNames(spec).length;
  return FLOAT * trainable * (3 + slots) <= 0.75 * WASM_HEAP_CEILING;
}

/** What the estimate needs of a model: its parameters and, per sample, the values a step and an inference keep. */
interface ModelFacts {
  weights: number;
  trainable: number;
  /** Values per sample a training step keeps: each node's output size x its op's trainingCopies. */
  stepValues: number;
  /** Values per sample an inference keeps (every node that makes new values, once). */
  inferenceValues: number;
  /** Values of every kernel (dense, conv2d): XNNPACK packs a copy of each in inference on wasm and caches it. */
  kernels: number;
  /** The largest kernel whose input gradient a step computes (through a transposed, packed copy on wasm). */
  workingKernel: number;
  /** Values of the largest trainable weight: its gradient is the largest buffer a step allocates. */
  largestWeight: number;
  /** Values of the trainable weights under IN_PLACE_MIN_VALUES (updated into fresh memory on wasm too). */
  freshUpdated: number;
  /** The node holding the most parameters. */
  largest?: { layer: string; params: number; span?: Span };
}

function factsOf(model: Model): ModelFacts {
  const facts: ModelFacts = {
    weights: 0,
    trainable: 0,
    stepValues: 0,
    inferenceValues: 0,
    kernels: 0,
    workingKernel: 0,
    largestWeight: 0,
    freshUpdated: 0,
  };
  const shapes = new Map<string, number[]>();
  // Nodes whose output depends on a trainable weight: a node fed by one computes its input gradient.
  const trained = new Set<string>();
  for (const node of model.layers) {
    const op = opOf(node);
    const params = node.params ?? NO_PARAMS;
    const values = perSample(node) ?? 0;
    shapes.set(node.name, (node.op === "input" ? node.shape : node.outputShape?.slice(1)) as number[]);
    facts.weights += params.trainable + params.nonTrainable;
    facts.trainable += params.trainable;
    const copies = op.trainingCopies?.(node) ?? 2;
    facts.stepValues += copies * values;
    facts.inferenceValues += copies > 0 ? values : 0;
    const inputs = node.inputs.map((name) => shapes.get(name));
    // A node without its inputs' shapes (IR the checker refused) has no weights to count.
    const known = inputs.every((x) => x !== undefined) && (op.arity === "none" || inputs.length > 0);
    const weights = known ? op.kerasWeights(node, inputs as number[][]) : [];
    const kernel = weights.find((w) => w.suffix === "kernel");
    const kernelSize = kernel ? sizeOf(kernel.shape) : 0;
    if (params.trainable > 0) {
      const sizes = weights.map((w) => sizeOf(w.shape));
      facts.largestWeight = Math.max(facts.largestWeight, ...sizes);
      facts.freshUpdated += sizes.filter((n) => n < IN_PLACE_MIN_VALUES).reduce((a, n) => a + n, 0);
    }
    facts.kernels += kernelSize;
    const needsInputGradient = node.inputs.some((name) => trained.has(name));
    if (needsInputGradient) facts.workingKernel = Math.max(facts.workingKernel, kernelSize);
    if (needsInputGradient || params.trainable > 0) trained.add(node.name);
    const total = params.trainable + params.nonTrainable;
    if (total > (facts.largest?.params ?? 0))
      facts.largest = { layer: node.name, params: total, ...(node.span ? { span: node.span } : {}) };
  }
  return facts;
}

/** Bytes, part by part. A part absent from a backend is 0. */
export interface MemoryParts {
  /** Every weight, trainable or not. */
  parameters: number;
  /** One per trainable weight. */
  gradients: number;
  /** The optimizer's slots (Adam's m and v, momentum, ...). */
  slots: number;
  /**
   * The update's fresh buffers for the weights' next values (src/train/tensor-memory.ts; on wasm only for weights
   * under IN_PLACE_MIN_VALUES: larger ones are updated in place); on tensorflow also the copies of weights and
   * gradients it reads out of native memory.
   */
  update: number;
  /** What a step keeps per sample, times the batch. */
  activations: number;
  /** wasm: XNNPACK's packed kernels cached by inference, and the transposed kernel a step packs for dx. */
  kernelCopies: number;
  /**
   * wasm: the heap fragments (its allocator cannot move anything): one more buffer of the largest gradient.
   * Measured: dense 300000 after flatten reached 3.85 GiB of heap against 2.9 GiB of live buffers at most.
   */
  fragmentation: number;
  /** An inference batch's outputs (evaluation, exact population statistics); not at once with a step. */
  evaluation: number;
  /** The JS copies of weights and slots while a checkpoint is written. */
  checkpoint: number;
  /** early_stop restore=true: the best epoch's weights, kept in JS memory (and in every checkpoint). */
  bestWeights: number;
  /** Data-parallel training: the other threads' own copies and the shared exchange. */
  threads: number;
  /** Node.js, TensorFlow.js, nnc and a data set of MNIST's size (RUNTIME_BYTES). */
  runtime: number;
}

export interface MemoryEstimate {
  model: string;
  batch: number;
  optimizer: Optimizer["type"];
  backend: MemoryBackend;
  threads: number;
  parts: MemoryParts;
  /** Bytes the process holds at its peak. */
  total: number;
  /** wasm: the heap at its peak (per thread) against its ceiling, and where the optimizer's slots live. */
  heap?: { peak: number; ceiling: number; slotsOnHeap: boolean };
  /** The node holding the most parameters (for advice). */
  largest?: { layer: string; params: number; span?: Span };
}

export interface TrainingMemorySettings {
  batch: number;
  optimizer: Optimizer;
  earlyStop?: { restore: boolean } | undefined;
}

/**
 * The memory training `model` takes at `settings` on `backend` with `threads` data-parallel threads. Per thread:
 * resident are the weights and slots (and on wasm the packed kernels once evaluation ran); a step adds the
 * gradients, next values, activations and working kernel copies, evaluation its batch's outputs (the two never
 * at once). On wasm the heap never shrinks: its peak stays, and the JS side (slots kept off the heap,
 * checkpoint copies) comes on top.
 */
export function estimateTrainingMemory(
  model: Model,
  settings: TrainingMemorySettings,
  backend: MemoryBackend = "cpu",
  threads = 1,
): MemoryEstimate {
  const f = factsOf(model);
  const wasm = backend === "wasm";
  const rows = Math.ceil(settings.batch / threads);
  const slotsOnHeap = wasm && slotsOnWasmHeap(settings.optimizer, f.trainable);
  const parts: MemoryParts = {
    parameters: FLOAT * f.weights,
    gradients: FLOAT * f.trainable,
    slots: FLOAT * f.trainable * optimizerSlotNames(settings.optimizer).length,
    // wasm updates weights of IN_PLACE_MIN_VALUES or more in place (src/train/tensor-memory.ts).
    update: wasm
      ? FLOAT * Math.min(f.freshUpdated, f.trainable)
      : FLOAT * f.trainable * (backend === "tensorflow" ? 3 : 1),
    activations: FLOAT * rows * f.stepValues,
    kernelCopies: wasm ? FLOAT * (f.kernels + 2 * f.workingKernel) : FLOAT * f.workingKernel,
    fragmentation: wasm ? FLOAT * f.largestWeight : 0,
    evaluation: FLOAT * evalBatchOf(model) * f.inferenceValues,
    checkpoint: 0,
    bestWeights: settings.earlyStop?.restore ? FLOAT * f.weights : 0,
    threads: 0,
    runtime: RUNTIME_BYTES,
  };
  parts.checkpoint = parts.parameters + parts.slots + parts.bestWeights;
  // With threads, every thread also holds the summed gradients (uploaded while its own are alive).
  const summed = threads > 1 ? parts.gradients : 0;
  const step = parts.gradients + summed + parts.update + parts.activations;
  let perThread: number;
  let main: number;
  let heap: MemoryEstimate["heap"];
  if (wasm) {
    const working = FLOAT * 2 * f.workingKernel;
    const cached = FLOAT * f.kernels;
    const peak =
      parts.parameters +
      (slotsOnHeap ? parts.slots : 0) +
      cached +
      parts.fragmentation +
      Math.max(step + working, parts.evaluation);
    heap = { peak, ceiling: WASM_HEAP_CEILING, slotsOnHeap };
    perThread = peak + (slotsOnHeap ? 0 : parts.slots);
    // The heap keeps its peak: a checkpoint's copies come on top of it.
    main = perThread + parts.checkpoint + parts.bestWeights;
  } else {
    const resident = parts.parameters + parts.slots;
    perThread = resident + Math.max(step + parts.kernelCopies, parts.evaluation);
    // A step's tensors are gone when a checkpoint is written, between epochs.
    main =
      resident + parts.bestWeights + Math.max(step + parts.kernelCopies, parts.evaluation, parts.checkpoint);
  }
  if (threads > 1) {
    // Per thread a gradient buffer for the exchange; the exchange's two rounds of one slot per thread.
    parts.threads = (threads - 1) * perThread + FLOAT * f.trainable * (3 * threads);
  }
  const total = main + parts.threads + parts.runtime;
  return {
    model: model.name,
    batch: settings.batch,
    optimizer: settings.optimizer.type,
    backend,
    threads,
    parts,
    total,
    ...(heap ? { heap } : {}),
    ...(f.largest ? { largest: f.largest } : {}),
  };
}

/** "909.8 MiB", "4.00 GiB": binary units, as memory is counted. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(size)} bytes`;
  return `${size >= 100 ? size.toFixed(0) : size >= 10 ? size.toFixed(1) : size.toFixed(2)} ${units[unit]}`;
}

const PART_NAMES: Record<keyof MemoryParts, (e: MemoryEstimate) => string> = {
  parameters: () => "parameters",
  gradients: () => "gradients",
  slots: (e) => `${e.optimizer} slots`,
  update: () => "update",
  activations: (e) => `activations at batch ${e.batch}`,
  kernelCopies: () => "kernel copies",
  fragmentation: () => "heap fragmentation",
  evaluation: () => "evaluation batch",
  checkpoint: () => "checkpoint copies",
  bestWeights: () => "early stopping's best weights",
  threads: (e) => `${e.threads - 1} more thread${e.threads === 2 ? "" : "s"}`,
  runtime: () => "runtime",
};

/** The parts that live on the wasm heap (the slots only where slotsOnWasmHeap put them there). */
const HEAP_PARTS: (keyof MemoryParts)[] = [
  "parameters",
  "slots",
  "gradients",
  "activations",
  "kernelCopies",
  "fragmentation",
  "evaluation",
];

/**
 * The estimate's parts: "parameters 909.8 MiB, gradients 909.8 MiB, ...", in brief (parts under 1% of the total
 * left out) unless `all`; with `heap`, only the wasm heap's parts, against its peak.
 */
export function describeParts(e: MemoryEstimate, options: { all?: boolean; heap?: boolean } = {}): string {
  const total = options.heap && e.heap ? e.heap.peak : e.total;
  const onHeap = (k: keyof MemoryParts) =>
    HEAP_PARTS.includes(k) && (k !== "slots" || e.heap?.slotsOnHeap === true);
  const keys = (Object.keys(PART_NAMES) as (keyof MemoryParts)[]).filter(
    (k) => e.parts[k] > 0 && (options.all || e.parts[k] >= total / 100) && (!options.heap || onHeap(k)),
  );
  const text = keys.map((k) => `${PART_NAMES[k](e)} ${formatBytes(e.parts[k])}`).join(", ");
  // A step's tensors, evaluation and a checkpoint's copies come one after another: the peak is not their sum.
  const sum = keys.reduce((n, k) => n + e.parts[k], 0);
  return sum > total * 1.01 ? `${text}; not all at once` : text;
}

/** The machine's memory: in all (a cgroup's limit where lower) and available now. */
export interface MachineMemory {
  total: number;
  available: number;
}

export function machineMemory(): MachineMemory {
  // constrainedMemory: a container's limit (Node 19.6+; 0 or a huge number where there is none).
  const constrained =
    (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  const total = constrained > 0 ? Math.min(totalmem(), constrained) : totalmem();
  const inProcess = process.memoryUsage().rss;
  return { total, available: Math.min(freemem(), Math.max(0, total - inProcess)) };
}

/** How the estimate names what it is about: "model 'big' at batch 32 with adam". */
export const describeTraining = (e: MemoryEstimate): string =>
  `model '${e.model}' at batch ${e.batch} with ${e.optimizer}`;

/**
 * Advice for a model over a limit: the batch that fits when activations are what grows, the layer holding the
 * most parameters, and plain sgd when dropping the optimizer's slots would be enough. `slots`: the bytes of slots
 * counted against the limit (none for the wasm heap when they live outside it).
 */
function advice(e: MemoryEstimate, need: number, limit: number, slots = e.parts.slots): string[] {
  const out: string[] = [];
  const rows = Math.ceil(e.batch / e.threads);
  const perRow = e.parts.activations / rows;
  if (e.parts.activations > need - limit && perRow > 0) {
    const fits = Math.floor((limit - (need - e.parts.activations)) / perRow) * e.threads;
    if (fits >= 1) out.push(`use a batch of at most ${fits.toLocaleString("en-US")}`);
  }
  // The largest layer, where smaller weights could close the gap (not when activations alone pass the limit).
  const unshrinkable = e.parts.activations + e.parts.evaluation + e.parts.runtime;
  if (e.largest && e.largest.params > 0 && unshrinkable < limit)
    out.push(
      `make layer '${e.largest.layer}' smaller (it holds ${e.largest.params.toLocaleString("en-US")} parameters)`,
    );
  // Said only where the slots alone make the difference (they count once at least; a checkpoint copies them too).
  if (slots > 0 && need - slots <= limit) out.push("train with plain sgd, which keeps no optimizer slots");
  return out;
}

/** "A, b or c": fixes as one help sentence; undefined for none. */
function helpOf(fixes: string[]): { help?: string } {
  if (fixes.length === 0) return {};
  const text = fixes.length === 1 ? fixes[0]! : `${fixes.slice(0, -1).join(", ")} or ${fixes.at(-1)}`;
  return { help: text[0]!.toUpperCase() + text.slice(1) };
}

/** E315: training `e` (on the least demanding backend) needs more than this machine has. */
export function tooLargeForMachine(e: MemoryEstimate, what: string, total: number, span?: Span): Diagnostic {
  return diagnostic(
    "E315",
    { what, need: formatBytes(e.total), parts: describeParts(e), total: formatBytes(total) },
    { ...(span ? { span } : {}), ...helpOf(advice(e, e.total, total)) },
  );
}

/**
 * Training refused before it allocates: on wasm a heap over the ceiling (E636); anywhere more than the machine
 * has free now (E637), for `jobs` cells at once. `what` names the run ("model 'big' at batch 32 with adam").
 */
export function trainingMemoryProblem(
  e: MemoryEstimate,
  what: string,
  machine: MachineMemory,
  jobs = 1,
): Diagnostic | undefined {
  if (e.heap && e.heap.peak > e.heap.ceiling) {
    const fixes = [
      "use the cpu backend (--backend cpu; pure JS: no ceiling, but slow)",
      "install @tensorflow/tfjs-node (native, no ceiling)",
      ...advice(e, e.heap.peak, e.heap.ceiling, e.heap.slotsOnHeap ? e.parts.slots : 0),
    ];
    return diagnostic(
      "E636",
      {
        what,
        need: formatBytes(e.heap.peak),
        parts: describeParts(e, { heap: true }),
        ceiling: formatBytes(e.heap.ceiling),
      },
      helpOf(fixes),
    );
  }
  const need = e.total * jobs;
  if (need > machine.available) {
    const fixes = [
      ...(e.threads > 1 ? ["train on one thread (--threads 1)"] : []),
      ...(jobs > 1 ? ["run one cell at a time (--jobs 1)"] : []),
      ...advice(e, e.total, machine.available / jobs),
    ];
    return diagnostic(
      "E637",
      {
        what: jobs > 1 ? `${what} (x ${jobs} jobs at once)` : what,
        need: formatBytes(need),
        parts: describeParts(e),
        available: formatBytes(machine.available),
        total: formatBytes(machine.total),
      },
      helpOf(fixes),
    );
  }
  return undefined;
}

/** "model 'big' at batch 32 with adam on wasm (2 threads)": a run as E636/E637 name it. */
const describeRun = (e: MemoryEstimate): string =>
  `${describeTraining(e)} on ${e.backend}${e.threads > 1 ? ` with ${e.threads} threads` : ""}`;

/**
 * Throws E636/E637 (trainingMemoryProblem) when training `model` on `backend` cannot fit; else gives the
 * estimate. Called before anything is allocated: `nnc train` before it builds the model, fit before its
 * optimizer, experiments for every cell before the first.
 */
export function requireTrainingMemory(
  model: Model,
  settings: TrainingMemorySettings,
  backend: MemoryBackend,
  options: {
    threads?: number;
    jobs?: number;
    what?: string;
    /** The weights exist already (fit): what is free need not hold them again. */
    weightsHeld?: boolean;
    machine?: MachineMemory;
  } = {},
): MemoryEstimate {
  const e = estimateTrainingMemory(model, settings, backend, options.threads ?? 1);
  const what = options.what ?? describeRun(e);
  const machine = options.machine ?? machineMemory();
  const held = options.weightsHeld ? e.parts.parameters : 0;
  const problem = trainingMemoryProblem(
    e,
    what,
    { ...machine, available: machine.available + held },
    options.jobs,
  );
  if (problem) throw new NncError(problem);
  return e;
}

/**
 * E638 when a model's weights alone (and the packed copies inference makes of its kernels) cannot fit the wasm
 * heap: building it would fail inside TensorFlow.js. Checked when a model is built, whatever it is built for;
 * training's own needs are requireTrainingMemory's.
 */
export function requireWeightsMemory(model: Model, backend: MemoryBackend): void {
  if (backend !== "wasm") return;
  const f = factsOf(model);
  const parameters = FLOAT * f.weights;
  const copies = FLOAT * f.kernels;
  if (parameters + copies <= WASM_HEAP_CEILING) return;
  const fixes = [
    "use the cpu backend (--backend cpu; pure JS: no ceiling, but slow)",
    "install @tensorflow/tfjs-node (native, no ceiling)",
    ...(f.largest ? [`make layer '${f.largest.layer}' smaller`] : []),
  ];
  throw new NncError(
    diagnostic(
      "E638",
      {
        model: model.name,
        need: formatBytes(parameters + copies),
        parameters: formatBytes(parameters),
        copies: formatBytes(copies),
        ceiling: formatBytes(WASM_HEAP_CEILING),
      },
      helpOf(fixes),
    ),
  );
}
