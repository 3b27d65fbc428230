// Op `dense`: fully connected, y = activation(x W + b) on [batch, features].
import { Type, type Static } from "@sinclair/typebox";
import {
  ActivationParamsFields,
  ActivationSchema,
  InitializerSchema,
  nodeSchema,
  PositiveInt,
  type Activation,
} from "../ir/common.ts";
import { initializerArg, kernelConfig, l2Arg, readKernelConfig } from "./kernel-config.ts";
import { statement, type ImportedStatement } from "./keras-import.ts";
import { channelsOf, kerasCommon, weightedCopies, wrongRank, type OpDefinition } from "./op.ts";
import { onnxActivation } from "./activation.ts";
import { activationParams } from "./activations/index.ts";
import {
  activationArg,
  activationOptions,
  activationOptionsArg,
  int,
  kernelOptions,
  layerSignature,
} from "./signature.ts";

export const schema = nodeSchema(
  "dense",
  {
    units: PositiveInt("output features"),
    activation: ActivationSchema,
    ...ActivationParamsFields,
    useBias: Type.Boolean(),
    kernelInitializer: InitializerSchema,
    l2: Type.Optional(
      Type.Number({ minimum: 0, description: "L2 kernel regularizer: l2 * sum(kernel^2) added to the loss" }),
    ),
  },
  "fully connected: y = activation(x W + b) on [batch, features] input; differs from Keras: Keras applies " +
    "Dense to the last axis of any rank, nnc asks for flatten first",
);
export type DenseNode = Static<typeof schema>;

export const dense: OpDefinition<DenseNode> = {
  op: "dense",
  schema,
  signatures: [
    layerSignature(
      "dense",
      "fully connected layer: activation(x W + b) on [batch, features] (flatten images first)",
      [{ name: "UNITS", type: int(), doc: "output features", required: true, field: "units" }, activationArg],
      [...kernelOptions, ...activationOptions],
    ),
  ],
  build: (_sig, arg) => ({
    units: arg<number>("UNITS"),
    activation: arg<Activation>("ACTIVATION"),
    useBias: arg<boolean>("bias"),
    kernelInitializer: initializerArg(arg),
    ...l2Arg(arg),
    ...activationOptionsArg(arg),
  }),
  keras: { base: "dense", className: "Dense" },
  arity: "one",
  infer(node, [x]) {
    const input = x!.shape;
    if (input.length !== 2) {
      return wrongRank(
        node,
        input,
        "rank-2 [batch, features]",
        input.length > 2 ? "add 'flatten' before it" : "",
      );
    }
    const params = channelsOf(input) * node.units + (node.useBias ? node.units : 0);
    return { shape: [null, node.units], params: { trainable: params, nonTrainable: 0 } };
  },
  outputWithoutInput: (node) => [null, node.units],
  // A kernel [in, units] once per sample.
  macs: (node, [x]) => channelsOf(x!) * node.units,
  kerasConfig: (node) => ({ ...kerasCommon(node), units: node.units, ...kernelConfig(node) }),
  kerasWeights: (node, [x]) => [
    { suffix: "kernel", shape: [channelsOf(x!), node.units] },
    ...(node.useBias ? [{ suffix: "bias", shape: [node.units] }] : []),
  ],
  fromKeras: {
    classNames: ["Dense"],
    read(r) {
      const positional: ImportedStatement["positional"] = [r.int("units")];
      const options: ImportedStatement["options"] = [];
      readKernelConfig(r, positional, options);
      return statement("dense", positional, options);
    },
  },
  activation: (node) => node.activation,
  channelAffine: (node) => node.activation === "linear",
  trainingCopies: (node) => weightedCopies(node.activation),
  // Gemm computes x W + b with W as Keras holds it, [in, out]; without a bias, MatMul.
  onnx(node, ctx) {
    const x = ctx.input(0, "nnc").name;
    const k = ctx.weight("kernel");
    const kernel = ctx.constant("kernel", k.shape, k.data);
    const z = node.useBias
      ? ctx.emit("Gemm", [x, kernel, ctx.constant("bias", [node.units], ctx.weight("bias").data)])
      : ctx.emit("MatMul", [x, kernel]);
    return onnxActivation(ctx, { name: z, layout: "nnc" }, node.activation, activationParams(node));
  },
};
