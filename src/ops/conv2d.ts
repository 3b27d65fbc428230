// Op `conv2d`: 2-D convolution over NHWC input, y = activation(conv(x, W) + b).
import { Type, type Static } from "@sinclair/typebox";
import {
  ActivationSchema,
  InitializerSchema,
  nodeSchema,
  PaddingSchema,
  Pair,
  PositiveInt,
  type Activation,
} from "../ir/common.ts";
import { initializerArg, kernelConfig, l2Arg, readKernelConfig } from "./kernel-config.ts";
import { statement, type ImportedStatement } from "./keras-import.ts";
import { hwabToBaHw, readWindow, windowConfig } from "./convolution.ts";
import { channelsOf, kerasCommon, weightedCopies, type OpDefinition } from "./op.ts";
import { onnxActivation } from "./activation.ts";
import { onnxPads } from "./onnx.ts";
import { activationArg, int, kernelOptions, layerSignature, windowOptions } from "./signature.ts";
import { windowShape } from "./window.ts";

export const schema = nodeSchema(
  "conv2d",
  {
    filters: PositiveInt("output channels"),
    kernelSize: Pair("[height, width]"),
    strides: Pair("[height, width]"),
    padding: PaddingSchema,
    activation: ActivationSchema,
    useBias: Type.Boolean(),
    kernelInitializer: InitializerSchema,
    l2: Type.Optional(
      Type.Number({ minimum: 0, description: "L2 kernel regularizer: l2 * sum(kernel^2) added to the loss" }),
    ),
  },
  "2-D convolution over NHWC input",
);
export type Conv2dNode = Static<typeof schema>;

export const conv2d: OpDefinition<Conv2dNode> = {
  op: "conv2d",
  schema,
  signatures: [
    layerSignature(
      "conv2d",
      "2-D convolution over NHWC input",
      [
        { name: "FILTERS", type: int(), doc: "output channels", required: true, field: "filters" },
        {
          name: "KERNEL",
          type: { kind: "pair" },
          doc: "kernel size, 3 or 3x3",
          required: true,
          field: "kernelSize",
        },
        activationArg,
      ],
      [...windowOptions("step of the window, S or SxS (default 1)"), ...kernelOptions],
    ),
  ],
  build: (_sig, arg) => ({
    filters: arg<number>("FILTERS"),
    kernelSize: arg<[number, number]>("KERNEL"),
    strides: arg<[number, number] | undefined>("stride") ?? [1, 1],
    padding: arg<"valid" | "same">("padding"),
    activation: arg<Activation>("ACTIVATION"),
    useBias: arg<boolean>("bias"),
    kernelInitializer: initializerArg(arg),
    ...l2Arg(arg),
  }),
  keras: { base: "conv2d", className: "Conv2D" },
  arity: "one",
  infer(node, [x]) {
    const out = windowShape(node, x!, node.kernelSize, () => node.filters);
    if ("error" in out) return out;
    const [kh, kw] = node.kernelSize;
    const params = kh * kw * channelsOf(x!.shape) * node.filters + (node.useBias ? node.filters : 0);
    return { shape: out.shape, params: { trainable: params, nonTrainable: 0 } };
  },
  kerasConfig: (node) => ({
    ...kerasCommon(node),
    filters: node.filters,
    ...windowConfig(node),
    ...kernelConfig(node),
  }),
  kerasWeights: (node, [x]) => [
    { suffix: "kernel", shape: [...node.kernelSize, channelsOf(x!), node.filters] },
    ...(node.useBias ? [{ suffix: "bias", shape: [node.filters] }] : []),
  ],
  fromKeras: {
    classNames: ["Conv2D"],
    read(r) {
      const positional: ImportedStatement["positional"] = [r.int("filters")];
      const options: ImportedStatement["options"] = [];
      readWindow(r, positional, options);
      r.expect("dilation_rate", [1, [1, 1]], "nnc's convolutions are not dilated (dilation_rate [1, 1])");
      r.expect("groups", [1], "nnc's convolutions are not grouped (groups 1)");
      readKernelConfig(r, positional, options);
      return statement("conv2d", positional, options);
    },
  },
  activation: (node) => node.activation,
  channelAffine: (node) => node.activation === "linear",
  trainingCopies: (node) => weightedCopies(node.activation),
  // Conv over NCHW with the kernel transposed from Keras' HWIO to ONNX's OIHW, 'same' padded as TensorFlow pads.
  onnx(node, ctx) {
    const x = ctx.input(0, "nchw").name;
    const k = ctx.weight("kernel");
    const [kh, kw, ci, co] = k.shape as [number, number, number, number];
    const inputs = [x, ctx.constant("kernel", [co, ci, kh, kw], hwabToBaHw(k.data, k.shape))];
    if (node.useBias) inputs.push(ctx.constant("bias", [co], ctx.weight("bias").data));
    const z = ctx.emit("Conv", inputs, {
      kernel_shape: [kh, kw],
      strides: [...node.strides],
      pads: onnxPads(ctx.inputShape(0), node.kernelSize, node.strides, node.padding),
      dilations: [1, 1],
      group: 1,
    });
    return onnxActivation(ctx, { name: z, layout: "nchw" }, node.activation);
  },
};
