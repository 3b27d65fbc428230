// Op `prelu`: a leaky relu whose slope is learned (Keras PReLU, He et al. 2015): x if x > 0 else alpha * x,
// alpha of the input's per-sample shape with each of `shared_axes` (1-based, as Keras counts them after the
// batch) set to 1: `prelu` learns a slope per value, `prelu shared_axes=1x2` on images one per channel. Alpha
// starts at zero (Keras' default initializer): prelu starts as a relu. Compiled step: covered (closed form).
import { Type, type Static } from "@sinclair/typebox";
import { diagnostic } from "../diagnostics/index.ts";
import { nodeSchema } from "../ir/common.ts";
import { serialized, statement, type ImportedStatement } from "./keras-import.ts";
import { at, cls, kerasCommon, type OpDefinition, type Shape } from "./op.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "prelu",
  {
    sharedAxes: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1 }), {
        description: "axes (1-based after the batch, Keras' shared_axes) along which one alpha is shared",
      }),
    ),
  },
  "parametric relu: x if x > 0 else alpha * x, alpha learned",
);
export type PReluNode = Static<typeof schema>;

/** alpha's shape for a per-sample input shape: the input's, 1 along each shared axis. */
export function alphaShape(node: PReluNode, perSample: readonly number[]): number[] {
  const shape = [...perSample];
  for (const axis of node.sharedAxes ?? []) shape[axis - 1] = 1;
  return shape;
}

export const prelu: OpDefinition<PReluNode> = {
  op: "prelu",
  schema,
  signatures: [
    layerSignature(
      "prelu",
      "parametric relu (Keras PReLU): x if x > 0 else alpha * x, alpha learned, starting at 0",
      [],
      [
        {
          name: "shared_axes",
          type: { kind: "dims" },
          doc: "axes sharing one alpha (1-based after the batch, Keras' shared_axes): 1x2 on images learns one per channel",
          field: "sharedAxes",
        },
      ],
    ),
  ],
  build: (_sig, arg) => {
    const axes = arg<number[] | undefined>("shared_axes");
    return axes === undefined ? {} : { sharedAxes: [...axes] };
  },
  keras: { base: "p_re_lu", className: "PReLU" },
  arity: "one",
  infer(node, [x]) {
    const shape = x!.shape;
    const rank = shape.length - 1;
    const axes = node.sharedAxes ?? [];
    const bad = axes.find((a, i) => a > rank || axes.indexOf(a) !== i);
    if (bad !== undefined) {
      const detail =
        bad > rank ? `axis ${bad} is past the input's last (${rank})` : `axis ${bad} is repeated`;
      return {
        error: diagnostic(
          "E780",
          { axes: axes.join("x"), input: formatPerSample(shape), detail },
          at(node, node.argSpans?.["sharedAxes"] ?? node.span),
        ),
      };
    }
    const size = alphaShape(node, shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    return { shape, params: { trainable: size, nonTrainable: 0 } };
  },
  kerasConfig: (node) => ({
    ...kerasCommon(node),
    alpha_initializer: cls("Zeros"),
    alpha_regularizer: null,
    alpha_constraint: null,
    shared_axes: node.sharedAxes ? [...node.sharedAxes] : null,
  }),
  kerasWeights: (node, [x]) => [{ suffix: "alpha", shape: alphaShape(node, x!) }],
  fromKeras: {
    classNames: ["PReLU"],
    read(r) {
      const options: ImportedStatement["options"] = [];
      const v = r.config["shared_axes"];
      const axes = typeof v === "number" ? [v] : v;
      if (Array.isArray(axes) && axes.length > 0) {
        if (axes.every((a) => typeof a === "number" && Number.isInteger(a) && a >= 1))
          options.push(["shared_axes", axes.join("x")]);
        else r.problem("shared_axes", "nnc takes axes >= 1 (counted after the batch)");
      } else if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) {
        r.problem("shared_axes", "expected an axis or a list of axes");
      }
      const init = serialized(r.config["alpha_initializer"]);
      if (init && init.className !== "Zeros")
        r.note(`alpha_initializer ${init.className} is left out: nnc starts alpha at zero`);
      for (const key of ["alpha_regularizer", "alpha_constraint"]) {
        const s = serialized(r.config[key]);
        if (s) r.note(`${key} ${s.className} is left out: nnc has none (it changes training only)`);
      }
      return statement("prelu", [], options);
    },
  },
  activation: () => undefined,
  trainingCopies: () => 2,
  // ONNX PRelu: the slope broadcast against the input in nnc's layout (alpha is held as Keras holds it).
  onnx(_node, ctx) {
    const x = ctx.input(0, "nnc");
    const a = ctx.weight("alpha");
    return { name: ctx.emit("PRelu", [x.name, ctx.constant("alpha", a.shape, a.data)]), layout: x.layout };
  },
};

const formatPerSample = (shape: Shape): string => `[${shape.map((d) => d ?? "?").join(", ")}]`;
