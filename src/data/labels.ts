// Data layer: class labels against a model's output. A label at or past the output's units one-hot encodes to
// all zeros: no loss, no gradient, no error, the sample silently ignored. So every training start checks the
// labels once (one pass over a byte or int array) and fails with E506 naming the first offending one.
import { fail, type DiagnosticExtras } from "../diagnostics/diagnostic.ts";
import type { Model } from "../ir/schema.ts";
import type { Split } from "./types.ts";

/**
 * The classes a checked model's output tells apart: its last layer's units, 2 for a single (sigmoid) unit.
 * undefined for a model the checker has not filled in.
 */
export function outputClasses(model: Model): number | undefined {
  const units = model.layers.at(-1)?.outputShape?.at(-1);
  if (typeof units !== "number") return undefined;
  return units === 1 ? 2 : units;
}

/**
 * E506 for the first label outside 0..numClasses-1, with its index in the split. `source` names the data
 * when the split does not know the file it came from (embedded data); `extras` may add notes (which model).
 */
export function checkLabels(
  split: Split,
  numClasses: number,
  source: string,
  extras: DiagnosticExtras = {},
): void {
  const { y, count } = split;
  for (let i = 0; i < count; i++) {
    const label = y[i]!;
    if (label >= numClasses || label < 0) {
      fail("E506", { file: split.origin ?? source, label, index: i, classes: numClasses }, extras);
    }
  }
}
