// Checking: a checked model's summary as Keras' model.summary() gives it — layers with Keras class names,
// output shapes and parameter counts, totals — as data (`summary --json`) and as Keras' text table, and below it
// the memory training takes at the program's batch and optimizer (src/ir/training-memory.ts).
import type { Model, Train } from "../ir/schema.ts";
import { isChain } from "../ir/graph.ts";
import { KERAS_NAMES } from "../ir/keras-names.ts";
import {
  describeParts,
  estimateTrainingMemory,
  formatBytes,
  machineMemory,
  type MemoryEstimate,
} from "../ir/training-memory.ts";

export interface LayerSummary {
  name: string;
  /** Keras class name: Dense, BatchNormalization, Conv2D, ... */
  type: string;
  outputShape: (number | null)[];
  params: number;
  /** The layers whose outputs it takes (Keras' "Connected to" of a functional model). */
  inputs: string[];
}

export interface ModelSummary {
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** With train settings: what training takes, in bytes, on the wasm backend (nnc's default) and on cpu. */
  trainingMemory?: TrainingMemory;
}

export interface TrainingMemory {
  batch: number;
  optimizer: string;
  wasm: Pick<MemoryEstimate, "total" | "parts"> & { heap: NonNullable<MemoryEstimate["heap"]> };
  cpu: Pick<MemoryEstimate, "total" | "parts">;
  /** This machine's memory. */
  machine: number;
}

/** The training memory of a checked model at `train`'s batch and optimizer, on one thread. */
function trainingMemory(model: Model, train: Pick<Train, "batch" | "optimizer">): TrainingMemory {
  const wasm = estimateTrainingMemory(model, train, "wasm");
  const cpu = estimateTrainingMemory(model, train, "cpu");
  return {
    batch: train.batch,
    optimizer: train.optimizer.type,
    wasm: { total: wasm.total, parts: wasm.parts, heap: wasm.heap! },
    cpu: { total: cpu.total, parts: cpu.parts },
    machine: machineMemory().total,
  };
}

/**
 * Summarizes a checked model (every layer has outputShape and params; throws on an unchecked one); with `train`,
 * the memory training it takes too.
 */
export function summarizeModel(model: Model, train?: Pick<Train, "batch" | "optimizer">): ModelSummary {
  let trainable = 0;
  let nonTrainable = 0;
  const layers = model.layers.map((layer) => {
    if (!layer.outputShape || !layer.params)
      throw new Error(`internal: layer '${layer.name}' is not checked`);
    trainable += layer.params.trainable;
    nonTrainable += layer.params.nonTrainable;
    return {
      name: layer.name,
      type: KERAS_NAMES[layer.op].className,
      outputShape: layer.outputShape,
      params: layer.params.trainable + layer.params.nonTrainable,
      inputs: [...layer.inputs],
    };
  });
  return {
    layers,
    totalParams: trainable + nonTrainable,
    trainableParams: trainable,
    nonTrainableParams: nonTrainable,
    ...(train ? { trainingMemory: trainingMemory(model, train) } : {}),
  };
}

/**
 * The lines under the table: the peak on wasm with its parts, the heap against its ceiling, cpu's peak and the
 * machine's memory, e.g.
 *
 *     Training memory at batch 32 with adam: 8.40 GiB on wasm (parameters 910 MiB, ...)
 *       wasm heap 3.71 GiB of its 4.00 GiB ceiling (adam slots kept outside it); on cpu 5.58 GiB; this machine 23.5 GiB
 */
export function formatTrainingMemory(m: TrainingMemory): string {
  const wasm: MemoryEstimate = {
    model: "",
    batch: m.batch,
    optimizer: m.optimizer as MemoryEstimate["optimizer"],
    backend: "wasm",
    threads: 1,
    parts: m.wasm.parts,
    total: m.wasm.total,
  };
  const heap = m.wasm.heap;
  const over = heap.peak > heap.ceiling ? ": too large for wasm, use --backend cpu or tfjs-node" : "";
  const outside =
    !heap.slotsOnHeap && m.wasm.parts.slots > 0 ? ` (${m.optimizer} slots kept outside it)` : "";
  return (
    `Training memory at batch ${m.batch} with ${m.optimizer}: ${formatBytes(m.wasm.total)} on wasm ` +
    `(${describeParts(wasm, { all: true })})\n` +
    `  wasm heap ${formatBytes(heap.peak)} of its ${formatBytes(heap.ceiling)} ceiling${outside}${over}; ` +
    `on cpu ${formatBytes(m.cpu.total)}; this machine ${formatBytes(m.machine)}`
  );
}

/** Keras' readable_memory_size: float32 weights, 1024-based units, two decimals ("427.29 KB", "0.00 Byte"). */
export function readableSize(params: number): string {
  const units = ["Byte", "KB", "MB", "GB", "TB"];
  let size = params * 4;
  for (const unit of units) {
    if (size / 1024 < 1) return `${size.toFixed(2)} ${unit}`;
    size /= 1024;
  }
  return `${size.toFixed(2)} PB`;
}

const kerasShape = (shape: (number | null)[]): string =>
  `(${shape.map((d) => (d === null ? "None" : d)).join(", ")}${shape.length === 1 ? "," : ""})`;

/**
 * The summary as Keras 2 prints it (65 columns, "Total params: 109386 (427.29 KB)"), with Keras' "Connected
 * to" column for a graph (a functional model). Differs from Keras: the input layer is listed (as Keras lists it
 * for functional models), long cells widen their column instead of wrapping, and a layer's inputs are listed
 * by name on one line (Keras writes `name[0][0]`, one per line).
 */
export function formatSummary(summary: ModelSummary, modelName: string): string {
  const graph = !isChain(summary.layers);
  const rows = summary.layers.map((l) => [
    ` ${l.name} (${l.type})`,
    kerasShape(l.outputShape),
    String(l.params),
    ...(graph ? [l.inputs.join(", ")] : []),
  ]);
  const header = [" Layer (type)", "Output Shape", "Param #", ...(graph ? ["Connected to"] : [])];
  const width = (i: number, min: number) => Math.max(min, ...[header, ...rows].map((r) => r[i]!.length + 1));
  const w0 = width(0, 29);
  const w1 = width(1, 26);
  const w2 = width(2, 10);
  const w3 = graph ? width(3, 20) : 0;
  const lineLength = w0 + w1 + w2 + w3;
  const row = (r: string[]) =>
    (r[0]!.padEnd(w0) + r[1]!.padEnd(w1) + (graph ? r[2]!.padEnd(w2) + r[3]! : r[2]!)).trimEnd();
  const lines = [`Model: "${modelName}"`, "_".repeat(lineLength), row(header), "=".repeat(lineLength)];
  rows.forEach((r, i) => {
    lines.push(row(r));
    lines.push(i === rows.length - 1 ? "=".repeat(lineLength) : "");
  });
  if (rows.length === 0) lines.push("=".repeat(lineLength));
  lines.push(`Total params: ${summary.totalParams} (${readableSize(summary.totalParams)})`);
  lines.push(`Trainable params: ${summary.trainableParams} (${readableSize(summary.trainableParams)})`);
  lines.push(
    `Non-trainable params: ${summary.nonTrainableParams} (${readableSize(summary.nonTrainableParams)})`,
  );
  lines.push("_".repeat(lineLength));
  if (summary.trainingMemory) lines.push(formatTrainingMemory(summary.trainingMemory));
  return lines.join("\n");
}
