// Op `conv1d`: 1-D convolution over [batch, steps, channels] input (Keras Conv1D), y = activation(conv(x, W) + b),
// W [K, channels, FILTERS] taps D (dilation) apart, moving S (stride) steps. Lowered as a conv2d over
// [batch, 1, steps, channels] with a [1, K] kernel (src/kernels/conv1d.ts), as tfjs-core's conv1d is.
import { type Static } from "@sinclair/typebox";
import { diagnostic } from "../diagnostics/index.ts";
import { nodeSchema, PositiveInt } from "../ir/common.ts";
import { onnxActivation } from "./activation.ts";
import { activationParams } from "./activations/index.ts";
import {
  buildConv,
  convConfig,
  convFields,
  dilatedSteps,
  filtersArg,
  oneTapDilation,
  readWindow1d,
} from "./convolution.ts";
import { readKernelConfig } from "./kernel-config.ts";
import { statement, type ImportedStatement } from "./keras-import.ts";
import { onnxPads } from "./onnx.ts";
import { at, channelsOf, weightedCopies, type OpDefinition } from "./op.ts";
import {
  activationArg,
  activationOptions,
  int,
  kernelOptions,
  layerSignature,
  windowOptions,
} from "./signature.ts";
import { windowShape } from "./window.ts";

const DOC =
  "1-D convolution over [batch, steps, channels] input (Keras Conv1D): FILTERS filters of K taps, D steps " +
  "apart with dilation=D, moving S steps with stride=S (one of the two above 1, as Keras has it); weight " +
  "kernel [K, channels, FILTERS]";

export const schema = nodeSchema(
  "conv1d",
  {
    filters: PositiveInt("output channels"),
    kernelSize: PositiveInt("taps of the window"),
    ...convFields("L2 kernel regularizer: l2 * sum(kernel^2) added to the loss"),
    // A 1-D window's step and dilation: one number each (the 2-D convolutions' are pairs).
    strides: PositiveInt("steps the window moves"),
    dilation: PositiveInt("steps between the window's taps"),
  },
  "1-D convolution over [batch, steps, channels] input",
);
export type Conv1dNode = Static<typeof schema>;

export const conv1d: OpDefinition<Conv1dNode> = {
  op: "conv1d",
  schema,
  signatures: [
    layerSignature(
      "conv1d",
      DOC,
      [
        filtersArg,
        {
          name: "KERNEL",
          type: int(),
          doc: "taps of the window, e.g. 5",
          required: true,
          field: "kernelSize",
        },
        activationArg,
      ],
      [
        ...windowOptions("steps the window moves (default 1)", int()),
        {
          name: "dilation",
          type: int(),
          doc: "steps between the window's taps (Keras dilation_rate): the window spans (K-1)*D+1 steps",
          default: 1,
          field: "dilation",
        },
        ...kernelOptions,
        ...activationOptions,
      ],
    ),
  ],
  build: (_sig, arg) => ({
    filters: arg<number>("FILTERS"),
    kernelSize: arg<number>("KERNEL"),
    ...buildConv(arg),
    strides: arg<number | undefined>("stride") ?? 1,
    dilation: arg<number>("dilation"),
  }),
  keras: { base: "conv1d", className: "Conv1D" },
  arity: "one",
  lints: (node) => oneTapDilation(node, [node.kernelSize], [node.dilation]),
  infer(node, [x]) {
    if (node.strides > 1 && node.dilation > 1) {
      const span = node.argSpans?.["dilation"] ?? node.span;
      const p = { op: node.op, stride: node.strides, dilation: node.dilation };
      return { error: diagnostic("E785", p, at(node, span)) };
    }
    const extent = dilatedSteps(node.kernelSize, node.dilation);
    const out = windowShape({ ...node, strides: [node.strides] }, x!, [extent], () => node.filters);
    if ("error" in out) return out;
    const params = node.kernelSize * channelsOf(x!.shape) * node.filters + (node.useBias ? node.filters : 0);
    return { shape: out.shape, params: { trainable: params, nonTrainable: 0 } };
  },
  kerasConfig: (node) => convConfig(node),
  kerasWeights: (node, [x]) => [
    { suffix: "kernel", shape: [node.kernelSize, channelsOf(x!), node.filters] },
    ...(node.useBias ? [{ suffix: "bias", shape: [node.filters] }] : []),
  ],
  fromKeras: {
    classNames: ["Conv1D"],
    read(r) {
      const positional: ImportedStatement["positional"] = [r.int("filters")];
      const options: ImportedStatement["options"] = [];
      readWindow1d(r, positional, options);
      r.expect("groups", [1], "nnc's convolutions are not grouped (groups 1)");
      readKernelConfig(r, positional, options);
      return statement("conv1d", positional, options);
    },
  },
  // The kernel [K, in, filters] at every output step.
  macs: (node, [x], out) => node.kernelSize * channelsOf(x!) * out.reduce((a, b) => a * b, 1),
  activation: (node) => node.activation,
  channelAffine: (node) => node.activation === "linear",
  trainingCopies: (node) => weightedCopies(node.activation),
  // A 1-D Conv over [batch, channels, steps] (Transposes either side: nnc holds sequences channels-last), the
  // kernel from Keras' [K, in, out] to ONNX's [out, in, K], 'same' padded as TensorFlow pads.
  onnx(node, ctx) {
    const x = ctx.input(0, "nnc").name;
    const k = ctx.weight("kernel");
    const [taps, ci, co] = k.shape as [number, number, number];
    const oik = new Float32Array(k.data.length);
    for (let t = 0; t < taps; t++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) oik[(o * ci + i) * taps + t] = k.data[(t * ci + i) * co + o]!;
    const ncw = ctx.emit("Transpose", [x], { perm: [0, 2, 1] });
    const inputs = [ncw, ctx.constant("kernel", [co, ci, taps], oik)];
    if (node.useBias) inputs.push(ctx.constant("bias", [co], ctx.weight("bias").data));
    const extent = dilatedSteps(node.kernelSize, node.dilation);
    const [before, after] = onnxPads(ctx.inputShape(0), [extent], [node.strides], node.padding);
    const z = ctx.emit("Conv", inputs, {
      kernel_shape: [taps],
      strides: [node.strides],
      pads: [before!, after!],
      dilations: [node.dilation],
      group: 1,
    });
    const nwc = ctx.emit("Transpose", [z], { perm: [0, 2, 1] });
    return onnxActivation(ctx, { name: nwc, layout: "nnc" }, node.activation, activationParams(node));
  },
};
