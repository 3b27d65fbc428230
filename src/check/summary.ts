// Checking: a checked model's summary as Keras' model.summary() gives it — layers with Keras class names,
// output shapes and parameter counts, totals — as data (`summary --json`) and as Keras' text table.
import type { Model } from "../ir/schema.ts";
import { isChain } from "../ir/graph.ts";
import { KERAS_NAMES } from "../ir/keras-names.ts";

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
}

/** Summarizes a checked model (every layer has outputShape and params; throws on an unchecked one). */
export function summarizeModel(model: Model): ModelSummary {
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
  };
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
  return lines.join("\n");
}
