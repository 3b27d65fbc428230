// Op `conv2d`: 2-D convolution over NHWC input, y = activation(conv(x, W) + b), optionally dilated (Keras
// dilation_rate: the kernel's taps D apart; stride 1 then, E795). A dilated one trains in the compiled step with
// nnc's own dilated gradients (src/kernels/conv-grads.ts), and by autograd through dilatedConv2d, which gives tfjs
// those gradients (tfjs' Conv2D gradient refuses dilation > 1).
import { type Static } from "@sinclair/typebox";
import { nodeSchema, Pair, PositiveInt } from "../ir/common.ts";
import {
  buildConv,
  convConfig,
  convFields,
  convOptions,
  convPositional,
  dilatedExtent,
  dilationArg,
  dilationField,
  dilationOption,
  hwabToBaHw,
  oneTapDilation,
  readDilation,
  strideWithDilation,
  onnxConvAttributes,
  readConv,
} from "./convolution.ts";
import { channelsOf, weightedCopies, type OpDefinition } from "./op.ts";
import { onnxActivation } from "./activation.ts";
import { activationParams } from "./activations/index.ts";
import { layerSignature } from "./signature.ts";
import { windowShape } from "./window.ts";

const PARTS = { filters: true, depthMultiplier: false };

export const schema = nodeSchema(
  "conv2d",
  {
    filters: PositiveInt("output channels"),
    kernelSize: Pair("[height, width]"),
    ...convFields("L2 kernel regularizer: l2 * sum(kernel^2) added to the loss"),
    dilation: dilationField(),
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
      convPositional(PARTS),
      convOptions({ strideDoc: "step of the window, S or SxS (default 1)", extra: [dilationOption] }),
    ),
  ],
  build: (_sig, arg) => ({
    filters: arg<number>("FILTERS"),
    kernelSize: arg<[number, number]>("KERNEL"),
    ...buildConv(arg),
    ...dilationArg(arg),
  }),
  keras: { base: "conv2d", className: "Conv2D" },
  arity: "one",
  lints: (node) => oneTapDilation(node, node.kernelSize, node.dilation ?? [1, 1]),
  infer(node, [x]) {
    const both = strideWithDilation(node);
    if (both) return { error: both };
    const out = windowShape(node, x!, dilatedExtent(node), () => node.filters);
    if ("error" in out) return out;
    const [kh, kw] = node.kernelSize;
    const params = kh * kw * channelsOf(x!.shape) * node.filters + (node.useBias ? node.filters : 0);
    return { shape: out.shape, params: { trainable: params, nonTrainable: 0 } };
  },
  kerasConfig: (node) => convConfig(node),
  kerasWeights: (node, [x]) => [
    { suffix: "kernel", shape: [...node.kernelSize, channelsOf(x!), node.filters] },
    ...(node.useBias ? [{ suffix: "bias", shape: [node.filters] }] : []),
  ],
  fromKeras: {
    classNames: ["Conv2D"],
    read: (r) =>
      readConv(r, "conv2d", {
        parts: PARTS,
        extra: (options) => {
          readDilation(r, options);
          r.expect("groups", [1], "nnc's convolutions are not grouped (groups 1)");
        },
      }),
  },
  // The kernel [kh, kw, in, filters] at every output position.
  macs: (node, [x], out) =>
    node.kernelSize[0] * node.kernelSize[1] * channelsOf(x!) * out.reduce((a, b) => a * b, 1),
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
    const z = ctx.emit("Conv", inputs, onnxConvAttributes(node, ctx.inputShape(0), 1));
    return onnxActivation(ctx, { name: z, layout: "nchw" }, node.activation, activationParams(node));
  },
};
