// What the convolutions share (conv2d, depthwise_conv2d, separable_conv2d, conv2d_transpose; conv1d): their IR fields,
// statement arguments and options, how a bound statement becomes a node, the Keras config of their window and
// kernels and its reading back by nnc import, their ONNX Conv attributes and their kernels in ONNX's layout. Each
// op module keeps what is its own: its shape and parameter rule, its weights, its ONNX graph.
import { Type } from "@sinclair/typebox";
import {
  ActivationParamsFields,
  ActivationSchema,
  InitializerSchema,
  PaddingSchema,
  Pair,
  type Activation,
  type Initializer,
} from "../ir/common.ts";
import { initializerArg, kernelConfig, l2Arg, readKernelConfig } from "./kernel-config.ts";
import {
  optionUnlessDefault,
  statement,
  type ImportedStatement,
  type KerasConfigReader,
} from "./keras-import.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { argumentAt, at, kerasCommon, type ArgReader, type JsonObject, type NodeLike } from "./op.ts";
import { onnxPads, type OnnxAttribute } from "./onnx.ts";
import {
  activationArg,
  activationOptions,
  activationOptionsArg,
  int,
  kernelOptions,
  windowOptions,
  type ParamSpec,
} from "./signature.ts";

/** A convolution's window as the IR holds it. */
export interface ConvWindow {
  kernelSize: [number, number];
  strides: [number, number];
  padding: "valid" | "same";
  dilation?: [number, number];
}

/** A 1-D convolution's window as the IR holds it (conv1d): one number per field. */
export interface ConvWindow1d {
  kernelSize: number;
  strides: number;
  padding: "valid" | "same";
  dilation: number;
}

/** A convolution node as the shared code sees it: the window (2-D or 1-D), and what its kernel config holds. */
export type ConvNode = (ConvWindow | ConvWindow1d) & ConvKernelNode;
interface ConvKernelNode extends NodeLike {
  filters?: number;
  depthMultiplier?: number;
  activation: Activation;
  useBias: boolean;
  kernelInitializer: Initializer;
  l2?: number;
  alpha?: number;
}

/** Which of the shared parts a convolution has: FILTERS (not a depthwise one), depth_multiplier (depthwise ones). */
export interface ConvParts {
  filters: boolean;
  depthMultiplier: boolean;
}

/**
 * The IR fields every convolution has after its own (filters, kernelSize, depthMultiplier): the window's step and
 * padding, the activation, the bias, the initializer and l2 (`l2Doc` says which kernels it penalizes).
 */
export const convFields = (l2Doc: string) => ({
  strides: Pair("[height, width]"),
  padding: PaddingSchema,
  activation: ActivationSchema,
  ...ActivationParamsFields,
  useBias: Type.Boolean(),
  kernelInitializer: InitializerSchema,
  l2: Type.Optional(Type.Number({ minimum: 0, description: l2Doc })),
});

/** FILTERS of the convolutions that have it. */
export const filtersArg: ParamSpec = {
  name: "FILTERS",
  type: int(),
  doc: "output channels",
  required: true,
  field: "filters",
};

/** KERNEL, `doc` naming which kernel where there are two. */
export const kernelArg = (doc = "kernel size, 3 or 3x3"): ParamSpec => ({
  name: "KERNEL",
  type: { kind: "pair" },
  doc,
  required: true,
  field: "kernelSize",
});

/** The positional arguments of a convolution statement: [FILTERS] KERNEL [ACTIVATION]. */
export const convPositional = (parts: ConvParts, kernelDoc?: string): ParamSpec[] => [
  ...(parts.filters ? [filtersArg] : []),
  kernelArg(kernelDoc),
  activationArg,
];

/**
 * The options of a convolution statement: [depth_multiplier=], stride=, padding=, `extra` (conv2d's dilation=),
 * then bias=, init=, init_scale=, l2=, and the activation's own (leaky_relu's alpha=).
 */
export function convOptions(o: {
  strideDoc: string;
  depthMultiplierDoc?: string;
  extra?: ParamSpec[];
}): ParamSpec[] {
  const multiplier: ParamSpec[] = o.depthMultiplierDoc
    ? [
        {
          name: "depth_multiplier",
          type: int(),
          doc: o.depthMultiplierDoc,
          default: 1,
          field: "depthMultiplier",
        },
      ]
    : [];
  return [
    ...multiplier,
    ...windowOptions(o.strideDoc),
    ...(o.extra ?? []),
    ...kernelOptions,
    ...activationOptions,
  ];
}

/** The dilation= option of the convolutions that have it (conv2d). */
export const dilationOption: ParamSpec = {
  name: "dilation",
  type: { kind: "pair" },
  doc:
    "dilation rate, D or DxD (default 1): the kernel's taps D apart, a (K-1)D+1 window with K taps (Keras " +
    "dilation_rate); with stride 1 only",
  field: "dilation",
};

/** The IR field `dilation`: absent when undilated, so IR without it stays as it was. */
export const dilationField = () =>
  Type.Optional(Pair("[height, width] dilation rate: the kernel's taps this far apart (absent: 1)"));

/** The `dilation` field a statement gives: absent when not given or 1x1. */
export const dilationArg = (arg: ArgReader): { dilation?: [number, number] } => {
  const d = arg<[number, number] | undefined>("dilation");
  return d === undefined || (d[0] === 1 && d[1] === 1) ? {} : { dilation: d };
};

/** The window a dilated kernel covers: (K - 1) D + 1 per axis. */
export const dilatedExtent = (node: ConvWindow): [number, number] => {
  const [dh, dw] = node.dilation ?? [1, 1];
  return [(node.kernelSize[0] - 1) * dh + 1, (node.kernelSize[1] - 1) * dw + 1];
};

/** E795 when a convolution is both strided and dilated (Keras and tfjs' conv2d refuse it), else undefined. */
export function strideWithDilation(node: ConvWindow & NodeLike): Diagnostic | undefined {
  const d = node.dilation ?? [1, 1];
  if (d.every((v) => v === 1) || node.strides.every((v) => v === 1)) return undefined;
  return diagnostic(
    "E795",
    { op: node.op, stride: String(pairText(node.strides)), dilation: String(pairText(d)) },
    at(node, node.argSpans?.["dilation"] ?? node.span),
  );
}

/** nnc import: Keras' dilation_rate as a dilation= option where it is not 1. */
export function readDilation(r: KerasConfigReader, options: ImportedStatement["options"]): void {
  const [dh, dw] = r.pair("dilation_rate", [1, 1]);
  if (dh !== 1 || dw !== 1) options.push(["dilation", pairText([dh, dw])]);
}

/** A bound convolution statement's convFields (the op adds its own fields before them). */
export const buildConv = (arg: ArgReader) => ({
  strides: arg<[number, number] | undefined>("stride") ?? [1, 1],
  padding: arg<"valid" | "same">("padding"),
  activation: arg<Activation>("ACTIVATION"),
  useBias: arg<boolean>("bias"),
  kernelInitializer: initializerArg(arg),
  ...l2Arg(arg),
  ...activationOptionsArg(arg),
});

/** A window field as Keras' config lists it: one entry per spatial axis (a 1-D window's number as [n]). */
const perAxis = (v: number | readonly number[]): number[] => (typeof v === "number" ? [v] : [...v]);

/**
 * The Keras config of a convolution's window (Keras' Conv base: kernel_size, strides, padding, ...): lists of
 * two for a 2-D window, of one for a 1-D one (as tfjs-layers' Conv1D writes them).
 */
export const windowConfig = (node: ConvWindow | ConvWindow1d) => ({
  kernel_size: perAxis(node.kernelSize),
  strides: perAxis(node.strides),
  padding: node.padding,
  data_format: "channels_last",
  dilation_rate: perAxis(node.dilation ?? [1, 1]),
});

/**
 * A convolution's Keras layer config: filters, the window, depth_multiplier, then its kernels' initializer,
 * regularizer and constraint keys (`kernels`: Keras' names, kernel or depthwise_ and pointwise_).
 */
export const convConfig = (node: ConvNode, kernels: readonly string[] = ["kernel"]): JsonObject => ({
  ...kerasCommon(node),
  ...(node.filters !== undefined ? { filters: node.filters } : {}),
  ...windowConfig(node),
  ...(node.depthMultiplier !== undefined ? { depth_multiplier: node.depthMultiplier } : {}),
  ...kernelConfig(node, kernels),
});

/** A pair as a statement writes it: 3 for [3, 3], 3x2 otherwise. */
export const pairText = ([a, b]: readonly [number, number]): string | number => (a === b ? a : `${a}x${b}`);

/**
 * nnc import: a convolution's `KxK` (pushed to `positional`), stride= and padding= (options where not the
 * default), and channels_last (windowConfig inverted). Dilation is the caller's: not every convolution has it.
 */
export function readWindow(
  r: KerasConfigReader,
  positional: ImportedStatement["positional"],
  options: ImportedStatement["options"],
): void {
  const [kh, kw] = r.pair("kernel_size");
  positional.push(`${kh}x${kw}`);
  const [sh, sw] = r.pair("strides", [1, 1]);
  if (sh !== 1 || sw !== 1) options.push(["stride", pairText([sh, sw])]);
  optionUnlessDefault(options, "padding", r.oneOf("padding", ["valid", "same"], "valid"), "valid");
  r.channelsLast();
}

/** nnc import: a convolution nnc does not dilate accepts only dilation_rate 1 (`what`: "depthwise convolutions"). */
export const notDilated = (r: KerasConfigReader, what: string): void =>
  r.expect("dilation_rate", [1, [1, 1]], `nnc's ${what} are not dilated (dilation_rate [1, 1])`);

/**
 * nnc import of a convolution's Keras config (convConfig inverted): [FILTERS] KxK [ACTIVATION], then
 * depth_multiplier=, stride=, padding=, what `extra` reads (dilation, keys nnc does not offer), and the kernel
 * options.
 */
export function readConv(
  r: KerasConfigReader,
  op: string,
  o: {
    parts: ConvParts;
    kernels?: readonly string[];
    extra: (options: ImportedStatement["options"]) => void;
  },
): ImportedStatement {
  const positional: ImportedStatement["positional"] = o.parts.filters ? [r.int("filters")] : [];
  const options: ImportedStatement["options"] = [];
  readWindow(r, positional, options);
  if (o.parts.depthMultiplier) {
    const multiplier = r.int("depth_multiplier", 1);
    if (multiplier !== 1) options.unshift(["depth_multiplier", multiplier]);
  }
  o.extra(options);
  readKernelConfig(r, positional, options, o.kernels);
  return statement(op, positional, options);
}

/**
 * ONNX Conv's attributes for a convolution's window over input of per-sample shape `input` (nnc's NHWC):
 * 'same' padded as TensorFlow pads, for the window's dilated extent.
 */
export function onnxConvAttributes(
  node: ConvWindow,
  input: number[],
  group: number,
): Record<string, OnnxAttribute> {
  return {
    kernel_shape: [...node.kernelSize],
    strides: [...node.strides],
    pads: onnxPads(input, dilatedExtent(node), node.strides, node.padding),
    dilations: [...(node.dilation ?? [1, 1])],
    group,
  };
}

/**
 * A kernel [kh, kw, a, b] (Keras' HWIO, row-major) as ONNX's [b, a, kh, kw]: Conv's OIHW from Keras' Conv2D
 * kernel [kh, kw, in, out], ConvTranspose's [in, out, kh, kw] from Keras' Conv2DTranspose kernel [kh, kw, out, in].
 */
export function hwabToBaHw(data: Float32Array, [kh, kw, a, b]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let h = 0; h < kh!; h++)
    for (let w = 0; w < kw!; w++)
      for (let i = 0; i < a!; i++)
        for (let o = 0; o < b!; o++)
          out[((o * a! + i) * kh! + h) * kw! + w] = data[((h * kw! + w) * a! + i) * b! + o]!;
  return out;
}

/**
 * nnc import of a 1-D window (windowConfig inverted): K (pushed to `positional`), stride=, padding= and dilation=
 * where not the default; channels_last.
 */
export function readWindow1d(
  r: KerasConfigReader,
  positional: ImportedStatement["positional"],
  options: ImportedStatement["options"],
): void {
  positional.push(r.single("kernel_size"));
  const stride = r.single("strides", 1);
  if (stride !== 1) options.push(["stride", stride]);
  const why = "nnc pads 'valid' or 'same' (not 'causal')";
  optionUnlessDefault(options, "padding", r.oneOf("padding", ["valid", "same"], "valid", why), "valid");
  const dilation = r.single("dilation_rate", 1);
  if (dilation !== 1) options.push(["dilation", dilation]);
  r.channelsLast();
}

/** The steps a dilated 1-D window covers: K taps D apart (dilatedExtent's one axis). */
export const dilatedSteps = (kernel: number, dilation: number): number => (kernel - 1) * dilation + 1;

/**
 * W423: a dilation only along axes where the kernel has one tap spaces nothing apart, so it computes what
 * dilation 1 does (Keras accepts it silently); a wider kernel was probably meant.
 */
export function oneTapDilation(node: NodeLike, taps: number[], dilation: number[]): Diagnostic[] {
  const dilated = dilation.some((d) => d > 1);
  if (!dilated || !taps.every((k, i) => k === 1 || dilation[i] === 1)) return [];
  return [
    diagnostic("W423", { layer: node.name, dilation: Math.max(...dilation) }, argumentAt(node, "dilation")),
  ];
}
