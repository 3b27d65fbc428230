// Data layer: whether a data set's samples fit a model's input, checked before training so a mismatch is
// one clear error (E507) instead of a tfjs reshape failure mid-epoch. The trainer reshapes the batch.
import { fail } from "../diagnostics/diagnostic.ts";

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const same = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The samples can feed the input when the input shape is the sample shape, the sample shape plus a trailing
 * channel of 1 ([28,28] -> [28,28,1]), the flattened sample ([784]), or, for flat data ([784]), any shape
 * with the same number of elements (CSV rows -> [28,28,1]).
 */
export function compatibleShapes(sampleShape: readonly number[], inputShape: readonly number[]): boolean {
  if (same(sampleShape, inputShape)) return true;
  if (same([...sampleShape, 1], inputShape)) return true;
  const size = product(sampleShape);
  if (inputShape.length === 1 && inputShape[0] === size) return true;
  return sampleShape.length === 1 && product(inputShape) === size;
}

export const formatShape = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/** The input shapes a model may declare for these samples, for the E507 help line. */
export function acceptedInputShapes(sampleShape: readonly number[]): string[] {
  const shapes = [sampleShape, [...sampleShape, 1], [product(sampleShape)]];
  return [...new Set(shapes.map(formatShape))];
}

/** E507 when samples of `sampleShape` cannot feed an input of `inputShape`; `source` names the data. */
export function checkInputShape(
  sampleShape: readonly number[],
  inputShape: readonly number[],
  source: string,
  extras: { notes?: string[] } = {},
): void {
  if (compatibleShapes(sampleShape, inputShape)) return;
  fail(
    "E507",
    { source, dataShape: formatShape(sampleShape), inputShape: formatShape(inputShape) },
    { ...extras, help: `declare the model's input as one of ${acceptedInputShapes(sampleShape).join(", ")}` },
  );
}
