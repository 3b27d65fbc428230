// Op `reshape`: each sample's values in the same order under another shape (Keras Reshape), written as shapes
// are elsewhere (`reshape 7x4x28`; one -1 is the dimension the others leave, `reshape -1x28`). The IR keeps the
// target as written, -1 included, and so does the Keras config (target_shape excludes the batch, as Keras').
// Compiled step: covered (its gradient is dy reshaped back).
import { Type, type Static } from "@sinclair/typebox";
import { diagnostic } from "../diagnostics/index.ts";
import { nodeSchema } from "../ir/common.ts";
import { formatShape, sizeOf } from "../util/shape.ts";
import { statement } from "./keras-import.ts";
import { at, kerasCommon, NO_PARAMS, type LayerResult, type OpDefinition, type Shape } from "./op.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "reshape",
  {
    targetShape: Type.Array(Type.Integer(), {
      minItems: 1,
      description: "per-sample shape (no batch axis); one -1 is inferred from the input's size",
    }),
  },
  "each sample's values under another shape",
);
export type ReshapeNode = Static<typeof schema>;

const written = (dims: readonly number[]) => dims.join("x");

/** The output shape of `target` for an input of `input`'s per-sample size, or why there is none. */
function reshaped(node: ReshapeNode, input: Shape): LayerResult {
  const target = node.targetShape;
  const fail = (code: "E788" | "E789" | "E790", detail: string): LayerResult => ({
    error: diagnostic(
      code,
      { target: written(target), input: formatShape(input), detail },
      { ...at(node), ...(node.argSpans?.["targetShape"] ? { span: node.argSpans["targetShape"] } : {}) },
    ),
  });
  const bad = target.find((d) => d === 0 || d < -1);
  if (bad !== undefined)
    return fail("E788", `${bad} is no size (sizes are >= 1, and one may be -1: inferred)`);
  if (target.filter((d) => d === -1).length > 1) {
    return fail("E789", "only one dimension can be inferred; write the others' sizes");
  }
  const size = sizeOf(input.slice(1) as number[]);
  const known = sizeOf(target.filter((d) => d !== -1));
  const inferred = target.includes(-1);
  if (inferred ? size % known !== 0 : size !== known) {
    const detail = inferred
      ? `${size} values per sample are not a multiple of ${known}, the product of the sizes besides the -1`
      : `${size} values per sample, ${written(target)} holds ${known}`;
    return fail("E790", detail);
  }
  return { shape: [null, ...target.map((d) => (d === -1 ? size / known : d))], params: NO_PARAMS };
}

const sameShape = (a: Shape, b: readonly unknown[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export const reshape: OpDefinition<ReshapeNode> = {
  op: "reshape",
  schema,
  signatures: [
    layerSignature("reshape", "each sample's values, in order, under another shape", [
      {
        name: "DIMS",
        type: { kind: "dims", inferred: true },
        doc: "per-sample shape, e.g. 7x4x28; one -1 takes the size the others leave (-1x28)",
        required: true,
        field: "targetShape",
      },
    ]),
  ],
  build: (_sig, arg) => ({ targetShape: arg<number[]>("DIMS") }),
  keras: { base: "reshape", className: "Reshape" },
  arity: "one",
  // A reshape to the shape it reads changes nothing (often a leftover of an edit).
  lints: (node, input) =>
    input && node.outputShape && sameShape(input, node.outputShape)
      ? [diagnostic("W425", { shape: formatShape(node.outputShape) }, at(node))]
      : [],
  infer: (node, [x]) => reshaped(node, x!.shape),
  kerasConfig: (node) => ({ ...kerasCommon(node), target_shape: [...node.targetShape] }),
  kerasWeights: () => [],
  fromKeras: {
    classNames: ["Reshape"],
    read(r) {
      const v = r.config["target_shape"];
      const dims = Array.isArray(v) ? v.map((d) => (d === null ? -1 : d)) : [];
      const sizes = dims.every((d) => typeof d === "number" && Number.isInteger(d) && d !== 0 && d >= -1);
      if (dims.length === 0 || !sizes) {
        r.problem("target_shape", "expected a list of sizes >= 1, with at most one -1 (or null) inferred");
        return statement("reshape", ["-1"]);
      }
      return statement("reshape", [written(dims as number[])]);
    },
  },
  passesValues: () => true,
  // A reshape shares its input's values (and its gradient the gradient's).
  trainingCopies: () => 0,
  // In nnc's order (NHWC: channels fastest), as Keras reshapes: an NCHW input is transposed back first. The
  // shape is the checked one (the batch -1), so the -1 is already resolved.
  onnx(_node, ctx) {
    const x = ctx.input(0, "nnc");
    return {
      name: ctx.emit("Reshape", [x.name, ctx.ints("shape", [-1, ...ctx.outputShape()])]),
      layout: "nnc",
    };
  },
};
