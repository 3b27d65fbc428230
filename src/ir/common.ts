// The IR's shared vocabulary: spans, activations, initializers, paddings, and the fields every graph node
// carries. Op modules (src/ops/) build their node schemas from these; src/ir/schema.ts gathers the nodes into
// the program schema. Written with TypeBox, so JSON Schema and TypeScript types come from one source.
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { ACTIVATIONS, type Activation } from "../ops/activations/index.ts";

export { ACTIVATIONS, type Activation };

/** A string enum whose static type is the union of its values. */
export const literals = <const T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...values], description });

export const PositiveInt = (description: string) => Type.Integer({ minimum: 1, description });
export const Pair = (description: string) =>
  Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })], { description });

/** [start, end) character offsets into the source the IR was built from (absent for hand-written IR). */
export const SpanSchema = Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 })], {
  description: "[start, end) character offsets into the source file",
});

/** The activations of the registry (src/ops/activations/): one module each. */
export const ActivationSchema = literals(ACTIVATIONS, "activation function");

/**
 * The activation's own parameters, on a node that applies one (absent: the activation's defaults). Only
 * leaky_relu has one, its slope for x < 0; the checker refuses it beside another activation (E781).
 */
export const ActivationParamsFields = {
  alpha: Type.Optional(
    Type.Number({ minimum: 0, description: "leaky_relu's slope for x < 0 (default 0.3)" }),
  ),
};

export const INITIALIZERS = [
  "glorot_uniform",
  "glorot_normal",
  "he_uniform",
  "he_normal",
  "lecun_uniform",
  "lecun_normal",
  "random_normal",
  "random_uniform",
  "zeros",
] as const;
export const InitializerSchema = Type.Object(
  {
    name: literals(INITIALIZERS, "Keras initializer name"),
    scale: Type.Number({
      exclusiveMinimum: 0,
      description:
        "multiplier on the initializer's spread (1 = Keras' default); for random_normal/random_uniform the " +
        "stddev / limit is 0.05 * scale, as Keras' defaults",
    }),
  },
  { additionalProperties: false },
);

export const PADDINGS = ["valid", "same"] as const;
export const PaddingSchema = literals(
  PADDINGS,
  "'valid' (no padding) or 'same' (output = ceil(input / stride))",
);

/**
 * Fields every graph node carries. `outputShape` and `params` are written by the checker, never trusted on
 * input. `inputs` names the nodes whose outputs this one takes: the model is a graph, its nodes listed in an
 * order where every input comes earlier (the last node is the output).
 */
const nodeCommon = {
  name: Type.String({
    minLength: 1,
    description: "unique node name, Keras style (dense, dense_1, batch_normalization, ...)",
  }),
  inputs: Type.Array(Type.String({ minLength: 1 }), {
    description:
      "names of the earlier nodes whose outputs this node takes, in order (none for input; two or more for add " +
      "and concat; one for every other op)",
  }),
  span: Type.Optional(SpanSchema),
  argSpans: Type.Optional(
    Type.Record(Type.String(), SpanSchema, { description: "spans of individual arguments, by IR field" }),
  ),
  expandedFrom: Type.Optional(
    Type.Array(SpanSchema, {
      description:
        "spans of the block uses, repeats and residuals this node was expanded from, innermost first " +
        "(`span` is then the line inside the block's body)",
    }),
  ),
  outputShape: Type.Optional(
    Type.Array(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]), {
      description: "inferred by the checker; null is the batch dimension",
    }),
  ),
  params: Type.Optional(
    Type.Object(
      { trainable: Type.Integer({ minimum: 0 }), nonTrainable: Type.Integer({ minimum: 0 }) },
      { additionalProperties: false, description: "parameter counts as Keras counts them; from the checker" },
    ),
  ),
};

/** The schema of one op's graph node: the common fields and the op's own. */
export const nodeSchema = <P extends Record<string, TSchema>, O extends string>(
  op: O,
  props: P,
  description: string,
) =>
  Type.Object(
    { op: Type.Literal(op), ...nodeCommon, ...props },
    { additionalProperties: false, description },
  );

export type Span = Static<typeof SpanSchema>;
export type Initializer = Static<typeof InitializerSchema>;
