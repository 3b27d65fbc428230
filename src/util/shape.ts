// Utilities: tensor shapes as plain arrays (a null dimension is the batch). Takes a shape; gives its number of
// elements or the way messages print it. One definition, so sizes and messages agree across phases.

/** Elements of one value of this shape; a null (batch) dimension counts as 1. */
export const sizeOf = (shape: readonly (number | null)[]): number =>
  shape.reduce<number>((p, d) => p * (d ?? 1), 1);

/** "[?, 28, 28]": how shapes read in messages (the batch dimension is '?'). */
export const formatShape = (shape: readonly (number | null)[]): string =>
  `[${shape.map((d) => (d === null ? "?" : d)).join(", ")}]`;

/**
 * The most elements one tensor may hold: TensorFlow.js backs tensors with typed arrays indexed by int32
 * (larger ones fail with "Invalid typed array length").
 */
export const MAX_TENSOR_SIZE = 2 ** 31 - 1;
