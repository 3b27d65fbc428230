// Training: the IR's class_weight + the training labels -> one weight per class index, the per-sample weights
// Keras' fit(class_weight=) gives the training loss (keras/src/trainers/data_adapters/data_adapter_utils.py
// class_weight_to_sample_weights: a class not listed weighs 1.0). `balanced` is scikit-learn's
// compute_class_weight("balanced"): n_samples / (n_classes * count of the class), over the classes present.
import { fail } from "../diagnostics/index.ts";
import type { Train } from "../ir/schema.ts";

/**
 * The weight of every class index 0..classes-1 (and any larger label the data holds), or undefined when the
 * settings weigh nothing. `labels`: the training split's first `count` labels; `source` names the data in E333.
 */
export function classWeightTable(
  spec: Train["classWeight"],
  labels: ArrayLike<number>,
  count: number,
  classes: number,
  source: string,
): Float32Array | undefined {
  if (!spec) return undefined;
  let size = classes;
  for (let i = 0; i < count; i++) size = Math.max(size, labels[i]! + 1);
  const table = new Float32Array(size).fill(1);
  if (spec.mode === "given") {
    const beyond = Object.keys(spec.weights).filter((k) => Number(k) >= classes);
    if (beyond.length > 0) {
      fail("E333", { classes: beyond.join(", "), source, count: classes, where: "" });
    }
    for (const [k, w] of Object.entries(spec.weights)) table[Number(k)] = w;
    return table;
  }
  const counts = new Float64Array(size);
  for (let i = 0; i < count; i++) counts[labels[i]!]!++;
  const present = counts.filter((c) => c > 0).length;
  for (let c = 0; c < size; c++) if (counts[c]! > 0) table[c] = count / (present * counts[c]!);
  return table;
}

/**
 * The weights a run trains with, for its header: `class weights 0=2 (others 1)`; balanced ones as computed
 * from the training labels (the first `shown` classes, then how many more).
 */
export function describeClassWeights(
  spec: NonNullable<Train["classWeight"]>,
  table: Float32Array,
  shown = 10,
) {
  const w = (x: number) => String(+x.toPrecision(3));
  if (spec.mode === "given") {
    const given = Object.entries(spec.weights).map(([k, v]) => `${k}=${w(v)}`);
    return `class weights ${given.join(" ")}${given.length < table.length ? " (others 1)" : ""}`;
  }
  const listed = Array.from(table.subarray(0, shown), (v, c) => `${c}=${w(v)}`).join(" ");
  const more = table.length > shown ? ` and ${table.length - shown} more` : "";
  return `class weights balanced (n / (classes * count)): ${listed}${more}`;
}
