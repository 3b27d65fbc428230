// What an op module's ONNX rule (OpDefinition.onnx) sees of the export (src/onnx/graph.ts implements it): its
// node's inputs as ONNX tensors in the layout it asks for, its weights as plain data, and a way to emit ONNX
// nodes and constants. Plain types only: the ops stay free of protobuf and TensorFlow.js.

/**
 * The axis order of a tensor in the ONNX graph. "nnc": as nnc holds it (NHWC for images, [batch, features] for
 * vectors). "nchw": a rank-4 image with the channels moved to axis 1, as ONNX's Conv and pooling take it.
 */
export type OnnxLayout = "nnc" | "nchw";

/** A tensor of the ONNX graph: its name, and the axis order its values are in. */
export interface OnnxValue {
  name: string;
  layout: OnnxLayout;
}

/** An ONNX node attribute's value: an int or ints (integers), a float or floats (other numbers), a string. */
export type OnnxAttribute = number | number[] | string | { float: number } | { floats: number[] };

/** A weight as plain data, row-major in nnc's (Keras') layout: a dense kernel [in, out], a conv kernel HWIO. */
export interface OnnxWeight {
  shape: number[];
  data: Float32Array;
}

export interface OnnxContext {
  /**
   * The node's input `i` in the layout asked for: "nchw" transposes a rank-4 input held as "nnc" (and "nnc" the
   * other way; each transpose is made once per tensor), "any" takes it as it is. Inputs of another rank than 4
   * are always "nnc".
   */
  input(i: number, layout: OnnxLayout | "any"): OnnxValue;
  /** All inputs in one layout: the first input's, the others transposed to it where they differ. */
  inputsAlike(): OnnxValue[];
  /** Per-sample shape (no batch axis) of input `i` and of the node's output, in nnc's layout. */
  inputShape(i: number): number[];
  outputShape(): number[];
  /** The node's weight `<layer>/<suffix>`, as trained (batchnorm folded in where the export folds it). */
  weight(suffix: string): OnnxWeight;
  /** The input's scale k: raw samples are divided by it at the input (1: no scaling). */
  inputScale: number;
  /** Declares the graph's input, of per-sample shape `shape` with a dynamic batch axis; returns its tensor. */
  graphInput(shape: number[]): string;
  /** An initializer named `<layer>/<suffix>`, float32, of this shape; returns its name. */
  constant(suffix: string, shape: number[], data: Float32Array | readonly number[]): string;
  /**
   * An int64 initializer named `<layer>/<suffix>` holding `values` (1-D): the shapes, pads and slice bounds that
   * opset 17's Reshape, Pad and Slice take as inputs rather than attributes; returns its name.
   */
  ints(suffix: string, values: readonly number[]): string;
  /** Emits the ONNX node `opType` (default opset domain) over `inputs`; returns its (first) output's name. */
  emit(opType: string, inputs: string[], attributes?: Record<string, OnnxAttribute>): string;
}

/**
 * ONNX's Conv and pooling `pads` for nnc's padding, per spatial axis (one for sequences, two for images): all
 * the begins, then all the ends ([top, left, bottom, right] for images), 'same' as TensorFlow pads.
 */
export function onnxPads(
  input: number[],
  window: readonly number[],
  strides: readonly number[],
  padding: "valid" | "same",
): number[] {
  const axes = window.map((_, axis) => axis);
  if (padding === "valid") return [...axes, ...axes].map(() => 0);
  // TensorFlow's SAME: out = ceil(in / stride), the total padding split with the odd one at the bottom/right.
  const totals = axes.map((axis) => {
    const size = input[axis]!;
    const out = Math.ceil(size / strides[axis]!);
    return Math.max((out - 1) * strides[axis]! + window[axis]! - size, 0);
  });
  const begin = totals.map((t) => Math.floor(t / 2));
  return [...begin, ...totals.map((t, axis) => t - begin[axis]!)];
}
