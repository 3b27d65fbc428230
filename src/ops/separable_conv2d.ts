// Op `separable_conv2d`: a depthwise separable 2-D convolution over NHWC input (Keras SeparableConv2D): a
// depthwise convolution (each input channel with its own depth_multiplier filters), then a 1x1 convolution to
// FILTERS channels, then one bias and the activation.
import { type Static } from "@sinclair/typebox";
import { nodeSchema, Pair, PositiveInt } from "../ir/common.ts";
import {
  buildConv,
  convConfig,
  convFields,
  convOptions,
  convPositional,
  hwabToBaHw,
  notDilated,
  onnxConvAttributes,
  readConv,
} from "./convolution.ts";
import { channelsOf, weightedCopies, type OpDefinition } from "./op.ts";
import { onnxActivation } from "./activation.ts";
import { activationParams } from "./activations/index.ts";
import { layerSignature } from "./signature.ts";
import { windowShape } from "./window.ts";
import { sizeOf } from "../util/shape.ts";

const PARTS = { filters: true, depthMultiplier: true };

const DOC =
  "depthwise separable 2-D convolution over NHWC input (Keras SeparableConv2D): a depthwise convolution " +
  "(depth_multiplier filters per input channel, weight depthwise_kernel [kh, kw, in, M]), then a 1x1 " +
  "convolution to FILTERS channels (pointwise_kernel [1, 1, in x M, FILTERS]), then one bias; init= and l2= " +
  "apply to both kernels";

export const schema = nodeSchema(
  "separable_conv2d",
  {
    filters: PositiveInt("output channels"),
    kernelSize: Pair("[height, width]"),
    depthMultiplier: PositiveInt("depthwise filters per input channel"),
    ...convFields("L2 regularizer of both kernels: l2 * sum(kernel^2) each"),
  },
  "depthwise separable 2-D convolution over NHWC input",
);
export type SeparableConv2dNode = Static<typeof schema>;

export const separableConv2d: OpDefinition<SeparableConv2dNode> = {
  op: "separable_conv2d",
  schema,
  signatures: [
    layerSignature(
      "separable_conv2d",
      DOC,
      convPositional(PARTS, "depthwise kernel size, 3 or 3x3"),
      convOptions({
        depthMultiplierDoc:
          "depthwise filters per input channel (the 1x1 convolution takes input channels x this)",
        strideDoc: "step of the depthwise window, S or SxS (default 1)",
      }),
    ),
  ],
  build: (_sig, arg) => ({
    filters: arg<number>("FILTERS"),
    kernelSize: arg<[number, number]>("KERNEL"),
    depthMultiplier: arg<number>("depth_multiplier"),
    ...buildConv(arg),
  }),
  keras: { base: "separable_conv2d", className: "SeparableConv2D" },
  arity: "one",
  infer(node, [x]) {
    const out = windowShape(node, x!, node.kernelSize, () => node.filters);
    if ("error" in out) return out;
    const [kh, kw] = node.kernelSize;
    const middle = channelsOf(x!.shape) * node.depthMultiplier;
    const params = kh * kw * middle + middle * node.filters + (node.useBias ? node.filters : 0);
    return { shape: out.shape, params: { trainable: params, nonTrainable: 0 } };
  },
  kerasConfig: (node) => convConfig(node, ["depthwise", "pointwise"]),
  kerasWeights: (node, [x]) => [
    { suffix: "depthwise_kernel", shape: [...node.kernelSize, channelsOf(x!), node.depthMultiplier] },
    { suffix: "pointwise_kernel", shape: [1, 1, channelsOf(x!) * node.depthMultiplier, node.filters] },
    ...(node.useBias ? [{ suffix: "bias", shape: [node.filters] }] : []),
  ],
  fromKeras: {
    classNames: ["SeparableConv2D"],
    read: (r) =>
      readConv(r, "separable_conv2d", {
        parts: PARTS,
        kernels: ["depthwise", "pointwise"],
        extra: () => notDilated(r, "separable convolutions"),
      }),
  },
  // The depthwise half (kh x kw per in x M channel) and the pointwise half (in x M -> FILTERS), per output pixel.
  macs(node, [x], out) {
    const middle = channelsOf(x!) * node.depthMultiplier;
    const pixels = sizeOf(out) / node.filters;
    return pixels * middle * (node.kernelSize[0] * node.kernelSize[1] + node.filters);
  },
  activation: (node) => node.activation,
  channelAffine: (node) => node.activation === "linear",
  // The pointwise kernel's last axis is the output channel: a batchnorm's scale multiplies it.
  foldedKernel: "pointwise_kernel",
  regularizedKernels: ["depthwise_kernel", "pointwise_kernel"],
  // The output and its gradient, the depthwise result and its gradient, and before a non-linear activation two more.
  trainingCopies: (node) => weightedCopies(node.activation) + 2,
  // A grouped Conv (the depthwise half, no bias) and a 1x1 Conv with the bias, over NCHW.
  onnx(node, ctx) {
    const x = ctx.input(0, "nchw").name;
    const dw = ctx.weight("depthwise_kernel");
    const pw = ctx.weight("pointwise_kernel");
    const [kh, kw, c, m] = dw.shape as [number, number, number, number];
    const filters = pw.shape[3]!;
    const depthwise = ctx.emit(
      "Conv",
      [x, ctx.constant("depthwise_kernel", [c * m, 1, kh, kw], hwabToBaHw(dw.data, [kh, kw, 1, c * m]))],
      onnxConvAttributes(node, ctx.inputShape(0), c),
    );
    const inputs = [
      depthwise,
      ctx.constant("pointwise_kernel", [filters, c * m, 1, 1], hwabToBaHw(pw.data, pw.shape)),
    ];
    if (node.useBias) inputs.push(ctx.constant("bias", [filters], ctx.weight("bias").data));
    const z = ctx.emit("Conv", inputs, {
      kernel_shape: [1, 1],
      strides: [1, 1],
      pads: [0, 0, 0, 0],
      group: 1,
    });
    return onnxActivation(ctx, { name: z, layout: "nchw" }, node.activation, activationParams(node));
  },
};
