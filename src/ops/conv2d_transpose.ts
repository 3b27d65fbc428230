// Op `conv2d_transpose`: a transposed 2-D convolution over NHWC input (Keras Conv2DTranspose), the gradient of a
// convolution with respect to its input used as a layer: each input pixel spreads its kernel-weighted values over
// a KxK window of the output, windows `stride` apart. Output size as tfjs-layers' deconvLength: 'same' gives
// input x stride, 'valid' input x stride + max(K - stride, 0).
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
  readConv,
} from "./convolution.ts";
import { channelsOf, imageHint, weightedCopies, wrongRank, type OpDefinition, type Shape } from "./op.ts";
import { onnxActivation } from "./activation.ts";
import { activationParams } from "./activations/index.ts";
import { layerSignature } from "./signature.ts";
import { sizeOf } from "../util/shape.ts";

const PARTS = { filters: true, depthMultiplier: false };

const DOC =
  "transposed 2-D convolution over NHWC input (Keras Conv2DTranspose): output size input x stride with " +
  "padding=same, input x stride + max(K - stride, 0) with valid (tfjs-layers' rule; Keras' output_padding is " +
  "not offered); kernel [kh, kw, FILTERS, in]. Trained by autograd (the compiled step does not cover it)";

export const schema = nodeSchema(
  "conv2d_transpose",
  {
    filters: PositiveInt("output channels"),
    kernelSize: Pair("[height, width]"),
    ...convFields("L2 kernel regularizer: l2 * sum(kernel^2) added to the loss"),
  },
  "transposed 2-D convolution over NHWC input",
);
export type Conv2dTransposeNode = Static<typeof schema>;

/** One axis of the output (tfjs-layers' deconvLength). */
export const deconvLength = (size: number, stride: number, kernel: number, padding: "valid" | "same") =>
  padding === "same" ? size * stride : size * stride + Math.max(kernel - stride, 0);

export const conv2dTranspose: OpDefinition<Conv2dTransposeNode> = {
  op: "conv2d_transpose",
  schema,
  signatures: [
    layerSignature(
      "conv2d_transpose",
      DOC,
      convPositional(PARTS),
      convOptions({
        strideDoc: "how far apart the input pixels' windows land in the output, S or SxS (default 1)",
      }),
    ),
  ],
  build: (_sig, arg) => ({
    filters: arg<number>("FILTERS"),
    kernelSize: arg<[number, number]>("KERNEL"),
    ...buildConv(arg),
  }),
  keras: { base: "conv2d_transpose", className: "Conv2DTranspose" },
  arity: "one",
  infer(node, [x]) {
    const input = x!.shape;
    if (input.length !== 4)
      return wrongRank(node, input, "rank-4 [batch, height, width, channels]", imageHint(x!));
    const [kh, kw] = node.kernelSize;
    const [sh, sw] = node.strides;
    const shape: Shape = [
      null,
      deconvLength(input[1]!, sh, kh, node.padding),
      deconvLength(input[2]!, sw, kw, node.padding),
      node.filters,
    ];
    const params = kh * kw * node.filters * channelsOf(input) + (node.useBias ? node.filters : 0);
    return { shape, params: { trainable: params, nonTrainable: 0 } };
  },
  kerasConfig: (node) => convConfig(node),
  kerasWeights: (node, [x]) => [
    { suffix: "kernel", shape: [...node.kernelSize, node.filters, channelsOf(x!)] },
    ...(node.useBias ? [{ suffix: "bias", shape: [node.filters] }] : []),
  ],
  fromKeras: {
    classNames: ["Conv2DTranspose"],
    read: (r) =>
      readConv(r, "conv2d_transpose", {
        parts: PARTS,
        extra: () => {
          notDilated(r, "transposed convolutions");
          r.expect(
            "output_padding",
            [null],
            "nnc's transposed convolutions take the output size of tfjs-layers (output_padding None)",
          );
        },
      }),
  },
  // Each input pixel spreads its kernel [kh, kw, FILTERS, in] once: the multiply-adds of the convolution whose
  // input gradient it is (not the kernel at every output position).
  macs: (node, [x]) => sizeOf(x!) * node.kernelSize[0] * node.kernelSize[1] * node.filters,
  activation: (node) => node.activation,
  trainingCopies: (node) => weightedCopies(node.activation),
  // ConvTranspose over NCHW, weight [in, FILTERS, kh, kw]. ONNX's output is (in - 1) s + k - pads +
  // output_padding: TensorFlow's padding (the forward conv's 'same' padding of the output; none for valid), and
  // output_padding where the kernel is smaller than the stride (the positions no window reaches, zeros + bias).
  onnx(node, ctx) {
    const x = ctx.input(0, "nchw").name;
    const k = ctx.weight("kernel");
    const [kh, kw, filters, channels] = k.shape as [number, number, number, number];
    const inputs = [x, ctx.constant("kernel", [channels, filters, kh, kw], hwabToBaHw(k.data, k.shape))];
    if (node.useBias) inputs.push(ctx.constant("bias", [filters], ctx.weight("bias").data));
    const [inH, inW] = ctx.inputShape(0);
    const [outH, outW] = ctx.outputShape();
    const begin: number[] = [];
    const end: number[] = [];
    const extra: number[] = [];
    for (const [size, out, kernel, stride] of [
      [inH!, outH!, kh, node.strides[0]],
      [inW!, outW!, kw, node.strides[1]],
    ] as const) {
      const total = (size - 1) * stride + kernel - out; // < 0: output_padding
      const pad = Math.max(total, 0);
      begin.push(Math.floor(pad / 2));
      end.push(pad - Math.floor(pad / 2));
      extra.push(Math.max(-total, 0));
    }
    const z = ctx.emit("ConvTranspose", inputs, {
      kernel_shape: [kh, kw],
      strides: [...node.strides],
      pads: [...begin, ...end],
      output_padding: extra,
      dilations: [1, 1],
      group: 1,
    });
    return onnxActivation(ctx, { name: z, layout: "nchw" }, node.activation, activationParams(node));
  },
};
