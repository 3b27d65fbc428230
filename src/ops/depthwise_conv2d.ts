// Op `depthwise_conv2d`: a depthwise 2-D convolution over NHWC input (Keras DepthwiseConv2D): each input channel
// c convolved with its own depth_multiplier filters, output channel c * M + m, then bias and activation.
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

const PARTS = { filters: false, depthMultiplier: true };

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
    ...convFields("L2 regularizer of the depthwise kernel: l2 * sum(kernel^2)"),
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
      convPositional(PARTS),
      convOptions({
        depthMultiplierDoc: "filters per input channel: the output has input channels x this",
        strideDoc: "step of the window, S or SxS (default 1)",
      }),
    ),
  ],
  build: (_sig, arg) => ({
    kernelSize: arg<[number, number]>("KERNEL"),
    depthMultiplier: arg<number>("depth_multiplier"),
    ...buildConv(arg),
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
  kerasConfig: (node) => convConfig(node, ["depthwise"]),
  kerasWeights: (node, [x]) => [
    { suffix: "depthwise_kernel", shape: [...node.kernelSize, channelsOf(x!), node.depthMultiplier] },
    ...(node.useBias ? [{ suffix: "bias", shape: [channelsOf(x!) * node.depthMultiplier] }] : []),
  ],
  fromKeras: {
    classNames: ["DepthwiseConv2D"],
    read: (r) =>
      readConv(r, "depthwise_conv2d", {
        parts: PARTS,
        kernels: ["depthwise"],
        extra: () => notDilated(r, "depthwise convolutions"),
      }),
  },
  // Each of the C * M output channels: its kh x kw kernel at every output position.
  macs: (node, _inputs, out) => node.kernelSize[0] * node.kernelSize[1] * sizeOf(out),
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
    const z = ctx.emit("Conv", inputs, onnxConvAttributes(node, ctx.inputShape(0), c));
    return onnxActivation(ctx, { name: z, layout: "nchw" }, node.activation, activationParams(node));
  },
};
