// What the elementwise merges share (add, multiply, average, maximum, minimum, subtract: Keras' Merge layers
// that take inputs of equal shape): the statement `OP NAME...` (the current tensor and the outputs of the named
// earlier layers), the shape rule (equal shapes, else E310 naming both), no weights, a config of the common
// fields only, the import rule, and an ONNX rule of one node over the inputs in one layout.
import type { TObject } from "@sinclair/typebox";
import { diagnostic } from "../diagnostics/index.ts";
import { formatShape } from "../util/shape.ts";
import { statement } from "./keras-import.ts";
import type { OnnxContext, OnnxValue } from "./onnx.ts";
import { at, kerasCommon, NO_PARAMS, type InferInput, type NodeLike, type OpDefinition } from "./op.ts";
import { layerSignature, type ParamSpec } from "./signature.ts";

const sameShape = (a: InferInput, b: InferInput) =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** How an input is named in a message: the layer it comes from. */
export const inputName = (x: InferInput): string => (x.from ? `'${x.from.name}'` : "an input");

export interface ElementwiseMerge {
  op: string;
  schema: TObject;
  /** The statement's one-line doc. */
  doc: string;
  /** The doc of the LAYER argument (the named earlier layers). */
  layerDoc: string;
  keras: { base: string; className: string };
  /** Exactly two inputs, the current tensor and one named layer (subtract); else two or more. */
  pair?: boolean;
  /** How nnc import writes it in a graph (KerasImportRule.graphMerge): add is a "sum"; the others "ordered". */
  graphMerge?: "sum" | "ordered";
  /** A fix to suggest when input `other` does not fit `first` (add: the projection of a residual). */
  help?: (other: InferInput, first: InferInput) => string | undefined;
  /** The ONNX node over the inputs (all in the first input's layout). */
  onnx: (inputs: OnnxValue[], ctx: OnnxContext) => string;
}

/** An elementwise merge op: everything but its kernel. */
export function elementwiseMerge<N extends NodeLike>(m: ElementwiseMerge): OpDefinition<N> {
  const layers: ParamSpec = {
    name: "LAYER",
    type: { kind: "name" },
    doc: m.layerDoc,
    required: true,
    variadic: !m.pair,
  };
  return {
    op: m.op,
    schema: m.schema,
    signatures: [layerSignature(m.op, m.doc, [layers])],
    build: () => ({}) as ReturnType<OpDefinition<N>["build"]>,
    keras: m.keras,
    arity: "many",
    infer(node, inputs) {
      if (m.pair && inputs.length !== 2) {
        return { error: diagnostic("E791", { op: m.op, got: inputs.length }, at(node)) };
      }
      const [first] = inputs;
      const other = inputs.find((x) => !sameShape(x, first!));
      if (!other) return { shape: first!.shape, params: NO_PARAMS };
      // The first input is the current tensor (a residual's body); the others the named layers.
      const help = m.help?.(other, first!);
      return {
        error: diagnostic(
          "E310",
          {
            op: m.op,
            first: `${formatShape(first!.shape)} from ${inputName(first!)}`,
            second: `${formatShape(other.shape)} from ${inputName(other)}`,
            rule: "equal shapes",
          },
          help ? { ...at(node), help } : at(node),
        ),
      };
    },
    kerasConfig: (node) => kerasCommon(node),
    kerasWeights: () => [],
    // The importer adds the names of the other inputs (the first is the current tensor).
    fromKeras: {
      classNames: [m.keras.className],
      read: () => statement(m.op, []),
      ...(m.graphMerge ? { graphMerge: m.graphMerge } : {}),
    },
    onnx(_node, ctx) {
      const xs = ctx.inputsAlike();
      return { name: m.onnx(xs, ctx), layout: xs[0]!.layout };
    },
  };
}
