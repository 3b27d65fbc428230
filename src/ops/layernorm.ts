// Op `layernorm`: layer normalization over the last axis, per sample (Keras LayerNormalization).
import { Type, type Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { channelsOf, cls, kerasCommon, NO_PARAMS, type OpDefinition } from "./op.ts";
import { statement, type ImportedStatement } from "./keras-import.ts";
import { affineOptions, affineParams, affineWeights, readAffineConfig } from "./normalization.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "layernorm",
  {
    epsilon: Type.Number({ exclusiveMinimum: 0 }),
    center: Type.Boolean(),
    scale: Type.Boolean(),
  },
  "layer normalization over the last axis",
);
export type LayerNormNode = Static<typeof schema>;

export const layernorm: OpDefinition<LayerNormNode> = {
  op: "layernorm",
  schema,
  signatures: [layerSignature("layernorm", "layer normalization over the last axis", [], affineOptions)],
  build: (_sig, arg) => ({
    epsilon: arg<number>("epsilon"),
    center: arg<boolean>("center"),
    scale: arg<boolean>("scale"),
  }),
  keras: { base: "layer_normalization", className: "LayerNormalization" },
  arity: "one",
  infer(node, [x]) {
    const trainable = affineParams(node, channelsOf(x!.shape));
    return { shape: x!.shape, params: trainable ? { trainable, nonTrainable: 0 } : NO_PARAMS };
  },
  kerasConfig: (node) => ({
    ...kerasCommon(node),
    axis: -1,
    epsilon: node.epsilon,
    center: node.center,
    scale: node.scale,
    beta_initializer: cls("Zeros"),
    gamma_initializer: cls("Ones"),
  }),
  kerasWeights: (node, [x]) => affineWeights(node, channelsOf(x!)),
  fromKeras: {
    classNames: ["LayerNormalization"],
    read(r) {
      const options: ImportedStatement["options"] = [];
      readAffineConfig(r, options);
      r.expect("rms_scaling", [false], "nnc's layernorm subtracts the mean (rms_scaling false)");
      return {
        ...statement("layernorm", [], options),
        ...(r.lastAxisIndex === undefined ? {} : { lastAxis: r.lastAxisIndex }),
      };
    },
  },
  // The normalized input, the output, and their gradients.
  trainingCopies: () => 4,
  // LayerNormalization (opset 17) over nnc's last axis, so images stay NHWC for it; its Scale is required (ones
  // without gamma), its B optional.
  onnx(node, ctx) {
    const x = ctx.input(0, "nnc").name;
    const channels = channelsOf(ctx.outputShape());
    const gamma = node.scale ? ctx.weight("gamma").data : new Float32Array(channels).fill(1);
    const inputs = [x, ctx.constant("gamma", [channels], gamma)];
    if (node.center) inputs.push(ctx.constant("beta", [channels], ctx.weight("beta").data));
    const name = ctx.emit("LayerNormalization", inputs, { axis: -1, epsilon: { float: node.epsilon } });
    return { name, layout: "nnc" };
  },
};
