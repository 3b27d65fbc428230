// Data layer: a Dataset -> a plain description (counts, classes, value range) and its text for `nnc data NAME`.
import { classCounts } from "./split.ts";
import type { Dataset } from "./types.ts";

export interface DatasetDescription {
  source: string;
  description: string;
  sampleShape: number[];
  numClasses: number;
  splits: { name: "train" | "test" | "validation"; count: number; perClass: number[] }[];
  classes: { index: number; name: string }[];
  valueRange: { min: number; max: number };
  /** Choices made reading the source, with their reasons (CSV: label column, scale); see Dataset.choices. */
  choices: string[];
}

export function describeDataset(ds: Dataset): DatasetDescription {
  let min = Infinity;
  let max = -Infinity;
  for (const split of [ds.train, ds.validation]) {
    const x = split.x;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (x.length === 0) continue;
    // The range the model sees: stored values / scale, rounded to float32 as rows.ts does (scale > 0, so the
    // stored extremes are the scaled ones).
    min = Math.min(min, Math.fround(lo / (split.scale ?? 1)));
    max = Math.max(max, Math.fround(hi / (split.scale ?? 1)));
  }
  return {
    source: ds.source,
    description: ds.description,
    sampleShape: ds.sampleShape,
    numClasses: ds.numClasses,
    splits: [
      { name: "train", count: ds.train.count, perClass: classCounts(ds.train.y, ds.numClasses) },
      {
        name: ds.validationName,
        count: ds.validation.count,
        perClass: classCounts(ds.validation.y, ds.numClasses),
      },
    ],
    classes: Array.from({ length: ds.numClasses }, (_, index) => ({
      index,
      name: ds.classNames?.[index] ?? String(index),
    })),
    valueRange: { min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0 },
    choices: ds.choices ?? [],
  };
}

const n = (v: number): string => v.toLocaleString("en-US");
const value = (v: number): string => String(+v.toFixed(4));

/**
 *   fashion-mnist: Fashion-MNIST (Zalando) from ...
 *     samples  28x28 float32, values 0..1
 *     splits   train 60,000, test 10,000
 *     class          train    test
 *     0 T-shirt/top  6,000   1,000
 */
export function formatDatasetDescription(desc: DatasetDescription): string {
  const lines = [`${desc.source}: ${desc.description}`];
  // "labels: column 'y' ..." -> "  labels   column 'y' ...": the same columns as the lines below.
  for (const choice of desc.choices) {
    const colon = choice.indexOf(": ");
    lines.push(
      colon > 0 ? `  ${choice.slice(0, colon).padEnd(7)}  ${choice.slice(colon + 2)}` : `  ${choice}`,
    );
  }
  lines.push(
    `  samples  ${desc.sampleShape.join("x")} float32, values ${value(desc.valueRange.min)}..${value(desc.valueRange.max)}`,
  );
  lines.push(`  splits   ${desc.splits.map((s) => `${s.name} ${n(s.count)}`).join(", ")}`);
  lines.push(`  classes  ${desc.numClasses}`);
  const labels = desc.classes.map((c) => (c.name === String(c.index) ? c.name : `${c.index} ${c.name}`));
  const labelWidth = Math.max(5, ...labels.map((l) => l.length));
  const widths = desc.splits.map((s) => Math.max(s.name.length, n(s.count).length));
  const row = (label: string, cells: string[]) =>
    `    ${label.padEnd(labelWidth)}  ${cells.map((c, k) => c.padStart(widths[k]!)).join("  ")}`.trimEnd();
  lines.push(
    row(
      "class",
      desc.splits.map((s) => s.name),
    ),
  );
  desc.classes.forEach((c, k) =>
    lines.push(
      row(
        labels[k]!,
        desc.splits.map((s) => n(s.perClass[c.index] ?? 0)),
      ),
    ),
  );
  return lines.join("\n");
}
