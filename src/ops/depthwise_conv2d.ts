// Op `depthwise_conv2d`: a depthwise 2-D convolution over NHWC input (Keras DepthwiseConv2D): each input channel
// c convolved with its own depth_multiplier filters, output channel c * M + m, then bias and activation.
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
import { hwabToBaHw, readWindow, windowConfig } from "./convolution.ts";
import { initializerArg, kernelConfig, l2Arg, readKernelConfig } from "./kernel-config.ts";
import { statement, type ImportedStatement } from "./keras-import.ts";
import { channelsOf, kerasCommon, weightedCopies, type OpDefinition } from "./op.ts";
import { onnxActivation } from "./activation.ts";
import { onnxPads } from "./onnx.ts";
import { activationArg, int, kernelOptions, layerSignature, windowOptions } from "./signature.ts";
import { windowShape } from "./window.ts";

const DOC =
  "depthwise 2-D convolution over NHWC input (Keras DepthwiseConv2D): each input channel convolved with its " +
  "own depth_multiplier filters (output channels = input channels x depth_multiplier); weight " +
  "depthwise_kernel [kh, kw, in, M] and an optional bias. Not dilated: tfjs-layers' DepthwiseConv2D ignores " +
  "dilation_rate";

export const schema = nodeSchema(
  "depthwise_conv2d",
  {
    kernelSize: Pair("[height, width]"),
    depthMultiplier: PositiveInt("filters per input channel (output channels = input channels x this)"),
    strides: Pair("[height, width]"),
    padding: PaddingSchema,
    activation: ActivationSchema,
    useBias: Type.Boolean(),
    kernelInitializer: InitializerSchema,
    l2: Type.Optional(
      Type.Number({ minimum: 0, description: "L2 regularizer of the depthwise kernel: l2 * sum(kernel^2)" }),
    ),
  },
  "depthwise 2-D convolution over NHWC input",
);
export type DepthwiseConv2dNode = Static<typeof schema>;

export const depthwiseConv2d: OpDefinition<DepthwiseConv2dNode> = {
  op: "depthwise_conv2d",
  schema,
  signatures: [
    layerSignature(
      "depthwise_conv2d",
      DOC,
      [
        {
          name: "KERNEL",
          type: { kind: "pair" },
          doc: "kernel size, 3 or 3x3",
          required: true,
          field: "kernelSize",
        },
        activationArg,
      ],
      [
        {
          name: "depth_multiplier",
          type: int(),
          doc: "filters per input channel: the output has input channels x this",
          default: 1,
          field: "depthMultiplier",
        },
        ...windowOptions("step of the window, S or SxS (default 1)"),
        ...kernelOptions,
      ],
    ),
  ],
  build: (_sig, arg) => ({
    kernelSize: arg<[number, number]>("KERNEL"),
    depthMultiplier: arg<number>("depth_multiplier"),
    strides: arg<[number, number] | undefined>("stride") ?? [1, 1],
    padding: arg<"valid" | "same">("padding"),
    activation: arg<Activation>("ACTIVATION"),
    useBias: arg<boolean>("bias"),
    kernelInitializer: initializerArg(arg),
    ...l2Arg(arg),
  }),
  keras: { base: "depthwise_conv2d", className: "DepthwiseConv2D" },
  arity: "one",
  infer(node, [x]) {
    const out = windowShape(node, x!, node.kernelSize, (c) => c * node.depthMultiplier);
    if ("error" in out) return out;
    const [kh, kw] = node.kernelSize;
    const channels = channelsOf(x!.shape) * node.depthMultiplier;
    const params = kh * kw * channels + (node.useBias ? channels : 0);
    return { shape: out.shape, params: { trainable: params, nonTrainable: 0 } };
  },
  kerasConfig: (node) => ({
    ...kerasCommon(node),
    ...windowConfig(node),
    depth_multiplier: node.depthMultiplier,
    ...kernelConfig(node, ["depthwise"]),
  }),
  kerasWeights: (node, [x]) => [
    { suffix: "depthwise_kernel", shape: [...node.kernelSize, channelsOf(x!), node.depthMultiplier] },
    ...(node.useBias ? [{ suffix: "bias", shape: [channelsOf(x!) * node.depthMultiplier] }] : []),
  ],
  fromKeras: {
    classNames: ["DepthwiseConv2D"],
    read(r) {
      const positional: ImportedStatement["positional"] = [];
      const options: ImportedStatement["options"] = [];
      readWindow(r, positional, options);
      const multiplier = r.int("depth_multiplier", 1);
      if (multiplier !== 1) options.unshift(["depth_multiplier", multiplier]);
      r.expect(
        "dilation_rate",
        [1, [1, 1]],
        "nnc's depthwise convolutions are not dilated (dilation_rate [1, 1])",
      );
      readKernelConfig(r, positional, options, ["depthwise"]);
      return statement("depthwise_conv2d", positional, options);
    },
  },
  activation: (node) => node.activation,
  channelAffine: (node) => node.activation === "linear",
  // Output channel c * M + m is the flat index of [kh, kw, C, M] modulo C * M: a batchnorm folds per channel.
  foldedKernel: "depthwise_kernel",
  regularizedKernels: ["depthwise_kernel"],
  trainingCopies: (node) => weightedCopies(node.activation),
  // A grouped Conv (group = input channels) over NCHW: weight [C * M, 1, kh, kw], output channel c * M + m.
  onnx(node, ctx) {
    const x = ctx.input(0, "nchw").name;
    const k = ctx.weight("depthwise_kernel");
    const [kh, kw, c, m] = k.shape as [number, number, number, number];
    const weight = hwabToBaHw(k.data, [kh, kw, 1, c * m]);
    const inputs = [x, ctx.constant("depthwise_kernel", [c * m, 1, kh, kw], weight)];
    if (node.useBias) inputs.push(ctx.constant("bias", [c * m], ctx.weight("bias").data));
    const z = ctx.emit("Conv", inputs, {
      kernel_shape: [kh, kw],
      strides: [...node.strides],
      pads: onnxPads(ctx.inputShape(0), node.kernelSize, node.strides, node.padding),
      dilations: [1, 1],
      group: c,
    });
    return onnxActivation(ctx, { name: z, layout: "nchw" }, node.activation);
  },
};
