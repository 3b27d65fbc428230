// Op `concat`: two or more inputs joined along one axis (Keras Concatenate), equal in every other axis.
// Written `concat NAME... [axis=-1]`: the current tensor, then the outputs of the named earlier layers.
import { Type, type Static } from "@sinclair/typebox";
import { diagnostic } from "../diagnostics/index.ts";
import { nodeSchema } from "../ir/common.ts";
import { formatShape } from "../util/shape.ts";
import { at, kerasCommon, NO_PARAMS, type InferInput, type OpDefinition } from "./op.ts";
import { optionUnlessDefault, statement, type ImportedStatement } from "./keras-import.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "concat",
  {
    axis: Type.Integer({
      description: "the axis joined; negative counts from the last (-1, the channels, is Keras' default)",
    }),
  },
  "two or more inputs joined along one axis, equal in every other (inputs lists them)",
);
export type ConcatNode = Static<typeof schema>;

export const concat: OpDefinition<ConcatNode> = {
  op: "concat",
  schema,
  signatures: [
    layerSignature(
      "concat",
      "the current tensor and the outputs of the named earlier layers, joined along an axis",
      [
        {
          name: "LAYER",
          type: { kind: "name" },
          doc: "names of earlier layers whose outputs are joined after the current tensor",
          required: true,
          variadic: true,
        },
      ],
      [
        {
          name: "axis",
          type: { kind: "int", range: {} },
          doc: "the axis joined, -1 for the last (channels); not the batch axis",
          default: -1,
          field: "axis",
        },
      ],
    ),
  ],
  build: (_sig, arg) => ({ axis: arg<number>("axis") }),
  keras: { base: "concatenate", className: "Concatenate" },
  arity: "many",
  infer(node, inputs) {
    const rank = inputs[0]!.shape.length;
    const axis = node.axis < 0 ? rank + node.axis : node.axis;
    if (axis < 1 || axis >= rank) {
      const range = rank === 2 ? "axis=1 or axis=-1" : `1..${rank - 1} or -${rank - 1}..-1`;
      return {
        error: diagnostic(
          "E311",
          { axis: node.axis, rank, range },
          at(node, node.argSpans?.["axis"] ?? node.span),
        ),
      };
    }
    const name = (x: InferInput) => (x.from ? `'${x.from.name}'` : "an input");
    let joined = 0;
    for (const x of inputs) {
      const fits =
        x.shape.length === rank && x.shape.every((d, i) => i === axis || d === inputs[0]!.shape[i]);
      if (!fits) {
        return {
          error: diagnostic(
            "E310",
            {
              op: "concat",
              first: `${formatShape(inputs[0]!.shape)} from ${name(inputs[0]!)}`,
              second: `${formatShape(x.shape)} from ${name(x)}`,
              rule: `equal shapes except on axis ${node.axis}`,
            },
            at(node),
          ),
        };
      }
      joined += x.shape[axis] as number;
    }
    const shape = [...inputs[0]!.shape];
    shape[axis] = joined;
    return { shape, params: NO_PARAMS };
  },
  kerasConfig: (node) => ({ ...kerasCommon(node), axis: node.axis }),
  kerasWeights: () => [],
  // The importer adds the names of the other inputs (the first is the current tensor).
  fromKeras: {
    classNames: ["Concatenate"],
    read(r) {
      const options: ImportedStatement["options"] = [];
      optionUnlessDefault(options, "axis", r.int("axis", -1, -64), -1);
      return statement("concat", [], options);
    },
  },
  // nnc's axis counts in NHWC; where the inputs are NCHW, H, W, C (1, 2, 3) are axes 2, 3, 1.
  onnx(node, ctx) {
    const xs = ctx.inputsAlike();
    const rank = ctx.outputShape().length + 1;
    const axis = node.axis < 0 ? rank + node.axis : node.axis;
    const layout = xs[0]!.layout;
    const name = ctx.emit(
      "Concat",
      xs.map((x) => x.name),
      { axis: layout === "nchw" ? [0, 2, 3, 1][axis]! : axis },
    );
    return { name, layout };
  },
};
