// Building the IR: the one table of every statement nnc accepts (layer ops, train settings, experiment
// settings) with its arguments, options, types, defaults, ranges and docs. The binder, usage strings,
// "did you mean" candidates and the README's language reference are all derived from it.
import { OPTIMIZER_DEFAULTS } from "../ir/optimizer-defaults.ts";
import {
  ACTIVATIONS,
  BNSTATS,
  INITIALIZERS,
  LOSSES,
  MAX_SEED,
  OPTIMIZERS,
  PADDINGS,
  VARY_KEYS,
} from "../ir/schema.ts";

/** Numeric bounds; `describeRange` turns them into the text of an out-of-range message. */
export interface Range {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

export type ValueType =
  | { kind: "int"; range?: Range }
  | { kind: "number"; range?: Range }
  | { kind: "bool" }
  /** A word from a fixed list; `aliases` map other accepted spellings to a value. */
  | { kind: "enum"; values: readonly string[]; aliases?: Readonly<Record<string, string>>; metavar?: string }
  /** `784`, `28x28`, `28x28x1`: a shape of any rank. */
  | { kind: "dims" }
  /** `3` (meaning 3x3) or `3x2`: a 2-D window. */
  | { kind: "pair" }
  /** A word or a quoted string, e.g. a data source (`mnist`, "idx:./data"). */
  | { kind: "text" }
  /** A name (model, layer): a word or a quoted string. */
  | { kind: "name" }
  /** A number, word or string, typed later (the values of `vary`, typed per key by the checker). */
  | { kind: "any" };

export interface ParamSpec {
  /** Positional: the metavariable in usage (UNITS); option: the key (momentum). */
  name: string;
  type: ValueType;
  doc: string;
  /** The value when the argument is absent (shown in the reference). */
  default?: string | number | boolean;
  /** Positional only: must be given. */
  required?: boolean;
  /** Positional only, last: takes every remaining positional value (at least one if required). */
  variadic?: boolean;
  /** The IR field it fills: the key under which its span is kept in `argSpans`. */
  field?: string;
}

export type Context = "layer" | "train" | "experiment";

export interface Signature {
  name: string;
  context: Context;
  doc: string;
  positional: ParamSpec[];
  options: ParamSpec[];
  /** Settings that fill the same part of the IR, for duplicate detection (`adam` and `optimizer` both set "optimizer"). */
  setting?: string;
}

const positive: Range = { min: 0, minExclusive: true };
const unit: Range = { min: 0, max: 1, maxExclusive: true };
const int = (min = 1, max?: number): ValueType => ({
  kind: "int",
  range: max === undefined ? { min } : { min, max },
});
const num = (range?: Range): ValueType => (range ? { kind: "number", range } : { kind: "number" });
const bool: ValueType = { kind: "bool" };
const oneOf = (values: readonly string[], metavar?: string, aliases?: Record<string, string>): ValueType => ({
  kind: "enum",
  values,
  ...(aliases ? { aliases } : {}),
  ...(metavar ? { metavar } : {}),
});

// Options shared by several layers.
const nameOption: ParamSpec = {
  name: "name",
  type: { kind: "name" },
  doc: "layer name (default: Keras style per type, dense, dense_1, ...)",
  field: "name",
};
const activationArg: ParamSpec = {
  name: "ACTIVATION",
  type: oneOf(ACTIVATIONS, "ACTIVATION"),
  doc: `applied to the output: ${ACTIVATIONS.join(", ")}`,
  default: "linear",
  field: "activation",
};
const kernelOptions: ParamSpec[] = [
  { name: "bias", type: bool, doc: "add a learned bias", default: true, field: "useBias" },
  {
    name: "init",
    type: oneOf(INITIALIZERS, "NAME"),
    doc: `kernel initializer: ${INITIALIZERS.join(", ")}`,
    default: "glorot_uniform",
    field: "kernelInitializer",
  },
  {
    name: "init_scale",
    type: num(positive),
    doc: "multiplier on the initializer's spread",
    default: 1,
    field: "kernelInitializer.scale",
  },
];
const windowOptions = (strideDoc: string): ParamSpec[] => [
  { name: "stride", type: { kind: "pair" }, doc: strideDoc, field: "strides" },
  {
    name: "padding",
    type: oneOf(PADDINGS),
    doc: "'valid' (no padding) or 'same' (output = ceil(input / stride))",
    default: "valid",
    field: "padding",
  },
];
const layer = (
  name: string,
  doc: string,
  positional: ParamSpec[] = [],
  options: ParamSpec[] = [],
): Signature => ({
  name,
  context: "layer",
  doc,
  positional,
  options: [...options, nameOption],
});

const ACTIVATION_DOCS: Record<(typeof ACTIVATIONS)[number], string> = {
  relu: "max(x, 0)",
  sigmoid: "1 / (1 + exp(-x))",
  tanh: "hyperbolic tangent",
  softmax: "exp(x) / sum(exp(x)) over the last axis",
  elu: "x if x > 0 else exp(x) - 1",
  gelu: "x * Phi(x), Gaussian error linear unit",
  linear: "identity",
};

export const LAYER_SIGNATURES: Signature[] = [
  layer("input", "model input: per-sample shape without the batch (28x28x1 for images, 784 for vectors)", [
    { name: "DIMS", type: { kind: "dims" }, doc: "per-sample shape", required: true, field: "shape" },
  ]),
  layer("flatten", "reshape each sample to a vector"),
  layer(
    "dense",
    "fully connected layer: activation(x W + b) over the last axis",
    [{ name: "UNITS", type: int(), doc: "output features", required: true, field: "units" }, activationArg],
    kernelOptions,
  ),
  layer(
    "batchnorm",
    "batch normalization over the last (channel) axis, Keras conventions",
    [],
    [
      {
        name: "momentum",
        type: num({ min: 0, max: 1 }),
        doc: "moving = momentum * moving + (1 - momentum) * batch (Keras convention)",
        default: 0.99,
        field: "momentum",
      },
      {
        name: "epsilon",
        type: num(positive),
        doc: "added to the variance",
        default: 0.001,
        field: "epsilon",
      },
      { name: "center", type: bool, doc: "learn beta (shift)", default: true, field: "center" },
      { name: "scale", type: bool, doc: "learn gamma (scale)", default: true, field: "scale" },
      {
        name: "variance",
        type: oneOf(["biased", "unbiased"]),
        doc: "batch variance feeding the moving variance: biased (Keras, tfjs) or unbiased (PyTorch)",
        default: "biased",
        field: "variance",
      },
    ],
  ),
  ...ACTIVATIONS.map((a) => layer(a, `activation layer: ${ACTIVATION_DOCS[a]}`)),
  layer("activation", "activation layer, the activation named", [
    { ...activationArg, required: true, doc: `one of ${ACTIVATIONS.join(", ")}` },
  ]),
  layer("dropout", "inverted dropout (training only)", [
    {
      name: "RATE",
      type: num(unit),
      doc: "fraction of units dropped, 0 <= RATE < 1",
      required: true,
      field: "rate",
    },
  ]),
  layer(
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
  layer(
    "maxpool",
    "2-D max pooling over NHWC input",
    [{ name: "POOL", type: { kind: "pair" }, doc: "window, 2 or 2x2", required: true, field: "poolSize" }],
    windowOptions("step of the window, S or SxS (default: the pool size)"),
  ),
  layer(
    "avgpool",
    "2-D average pooling over NHWC input",
    [{ name: "POOL", type: { kind: "pair" }, doc: "window, 2 or 2x2", required: true, field: "poolSize" }],
    windowOptions("step of the window, S or SxS (default: the pool size)"),
  ),
  layer("globalavgpool", "mean over height and width: [batch, H, W, C] -> [batch, C]"),
  layer(
    "layernorm",
    "layer normalization over the last axis",
    [],
    [
      {
        name: "epsilon",
        type: num(positive),
        doc: "added to the variance",
        default: 0.001,
        field: "epsilon",
      },
      { name: "center", type: bool, doc: "learn beta (shift)", default: true, field: "center" },
      { name: "scale", type: bool, doc: "learn gamma (scale)", default: true, field: "scale" },
    ],
  ),
];

const lrOption = (dflt: number): ParamSpec => ({
  name: "lr",
  type: num(positive),
  doc: "learning rate",
  default: dflt,
  field: "lr",
});
const optimizerSig = (name: string, doc: string, options: ParamSpec[]): Signature => ({
  name,
  context: "train",
  doc,
  positional: [],
  options,
  setting: "optimizer",
});
/** The optimizers, each a statement of its own (`adam lr=0.01`) and the target of `optimizer NAME ...`. */
const { adam: ADAM, sgd: SGD, rmsprop: RMSPROP } = OPTIMIZER_DEFAULTS;
const OPTIMIZER_SIGNATURES: Signature[] = [
  optimizerSig("adam", "Adam optimizer", [
    lrOption(ADAM.lr),
    {
      name: "beta1",
      type: num(unit),
      doc: "decay of the first-moment average",
      default: ADAM.beta1,
      field: "beta1",
    },
    {
      name: "beta2",
      type: num(unit),
      doc: "decay of the second-moment average",
      default: ADAM.beta2,
      field: "beta2",
    },
    {
      name: "epsilon",
      type: num(positive),
      doc: "added to the denominator",
      default: ADAM.epsilon,
      field: "epsilon",
    },
  ]),
  optimizerSig("sgd", "stochastic gradient descent", [
    lrOption(SGD.lr),
    { name: "momentum", type: num(unit), doc: "momentum", default: SGD.momentum, field: "momentum" },
    { name: "nesterov", type: bool, doc: "Nesterov momentum", default: SGD.nesterov, field: "nesterov" },
  ]),
  optimizerSig("rmsprop", "RMSprop optimizer", [
    lrOption(RMSPROP.lr),
    {
      name: "rho",
      type: num(unit),
      doc: "decay of the squared-gradient average",
      default: RMSPROP.rho,
      field: "rho",
    },
    { name: "momentum", type: num(unit), doc: "momentum", default: RMSPROP.momentum, field: "momentum" },
    {
      name: "epsilon",
      type: num(positive),
      doc: "added to the denominator",
      default: RMSPROP.epsilon,
      field: "epsilon",
    },
  ]),
];

const train = (name: string, doc: string, positional: ParamSpec[], options: ParamSpec[] = []): Signature => ({
  name,
  context: "train",
  doc,
  positional,
  options,
});

export const TRAIN_SIGNATURES: Signature[] = [
  train(
    "data",
    "training data: mnist, fashion-mnist, idx:PATH (a folder of IDX files) or csv:PATH",
    [
      {
        name: "SOURCE",
        type: { kind: "text" },
        doc: "data source",
        required: true,
        default: "mnist",
        field: "source",
      },
    ],
    [
      {
        name: "validation",
        type: num({ min: 0, max: 1, minExclusive: true, maxExclusive: true }),
        doc: "hold out this fraction of the training set for validation (default: validate on the test set)",
        field: "validation",
      },
      { name: "limit", type: int(), doc: "use at most this many training samples", field: "limit" },
      {
        name: "scale",
        type: num(positive),
        doc:
          "divide raw values by this; the default depends on the source: 255 for IDX and fashion-mnist bytes, " +
          "1 for mnist (already in [0, 1]), for CSV 255 when some value exceeds 1 (pixel bytes) else 1",
        field: "scale",
      },
    ],
  ),
  {
    ...train(
      "optimizer",
      "the optimizer and its settings (also written as a statement of its own: `adam lr=0.01`)",
      [
        {
          name: "NAME",
          type: oneOf(OPTIMIZERS, "adam|sgd|rmsprop"),
          doc: OPTIMIZERS.join(", "),
          required: true,
          default: "adam",
          field: "type",
        },
      ],
    ),
    setting: "optimizer",
  },
  ...OPTIMIZER_SIGNATURES,
  train(
    "loss",
    "loss function; auto picks from the output activation (softmax: sparse_categorical_crossentropy, " +
      "one sigmoid unit: binary_crossentropy, else mse). Labels are class indices, so every loss needs a " +
      "[batch, units] output (end image models with flatten or globalavgpool and a dense layer); the " +
      "categorical losses need a softmax or linear output of 2 or more units, binary_crossentropy one unit " +
      "with a sigmoid or linear output (E306 otherwise)",
    [
      {
        name: "LOSS",
        type: oneOf(LOSSES, "LOSS", { crossentropy: "sparse_categorical_crossentropy" }),
        doc: `${LOSSES.join(", ")} (crossentropy = sparse_categorical_crossentropy)`,
        required: true,
        default: "auto",
        field: "type",
      },
    ],
    [
      {
        name: "from_logits",
        type: bool,
        doc: "whether outputs are logits; nnc derives it from the output and warns where this disagrees",
        field: "fromLogits",
      },
    ],
  ),
  train("batch", "mini-batch size", [
    { name: "N", type: int(), doc: "samples per step", required: true, default: 32 },
  ]),
  train("epochs", "passes over the training set", [
    { name: "N", type: int(), doc: "epochs", required: true, default: 5 },
  ]),
  train("seed", "seeds initialization, shuffling and dropout", [
    { name: "N", type: int(0, MAX_SEED), doc: "seed (0 to 2^32-1)", required: true, default: 0 },
  ]),
  train(
    "bnstats",
    "batchnorm statistics used at inference: exact recomputation over the training set, or moving averages",
    [
      {
        name: "MODE",
        type: oneOf(BNSTATS),
        doc: "exact or ema",
        required: true,
        default: "exact",
        field: "mode",
      },
    ],
    [
      {
        name: "sample",
        type: int(),
        doc: "exact: recompute over at most this many samples",
        field: "sample",
      },
    ],
  ),
  train("shuffle", "shuffle the training set every epoch", [
    { name: "BOOL", type: bool, doc: "true or false", required: true, default: true },
  ]),
  train(
    "init",
    "override every dense/conv2d kernel initializer",
    [
      {
        name: "NAME",
        type: oneOf(INITIALIZERS, "NAME"),
        doc: INITIALIZERS.join(", "),
        required: true,
        field: "name",
      },
    ],
    [
      {
        name: "scale",
        type: num(positive),
        doc: "multiplier on the initializer's spread",
        default: 1,
        field: "scale",
      },
    ],
  ),
];

const experiment = (
  name: string,
  doc: string,
  positional: ParamSpec[],
  options: ParamSpec[] = [],
): Signature => ({
  name,
  context: "experiment",
  doc,
  positional,
  options,
});

export const EXPERIMENT_SIGNATURES: Signature[] = [
  experiment("compare", "the models compared (default: every model of the file)", [
    { name: "MODEL", type: { kind: "name" }, doc: "model names", required: true, variadic: true },
  ]),
  experiment(
    "vary",
    "a training setting varied over values; the grid is the product of models and vary lists",
    [
      {
        name: "KEY",
        type: oneOf(VARY_KEYS, "KEY"),
        doc: VARY_KEYS.join(", "),
        required: true,
        field: "key",
      },
      { name: "VALUE", type: { kind: "any" }, doc: "values, typed per key", required: true, variadic: true },
    ],
  ),
  experiment("repeat", "runs per cell, with seeds seed, seed+1, ...", [
    { name: "N", type: int(), doc: "runs", required: true, default: 1 },
  ]),
  experiment(
    "lr_scale",
    "how the learning rate follows the batch size when batch varies: lr * (batch / ref) or lr * sqrt(batch / ref)",
    [
      {
        name: "RULE",
        type: oneOf(["none", "linear", "sqrt"]),
        doc: "none, linear or sqrt",
        required: true,
        default: "none",
        field: "rule",
      },
    ],
    [
      {
        name: "ref",
        type: int(),
        doc: "batch size at which lr is the train lr (default: the train batch)",
        field: "ref",
      },
    ],
  ),
  experiment("target", "validation accuracy whose first epoch is reported (epochs to target)", [
    {
      name: "ACC",
      type: num({ min: 0, max: 1, minExclusive: true }),
      doc: "accuracy in (0, 1]",
      required: true,
    },
  ]),
];

export const ALL_SIGNATURES: Signature[] = [
  ...LAYER_SIGNATURES,
  ...TRAIN_SIGNATURES,
  ...EXPERIMENT_SIGNATURES,
];
const byName = new Map(ALL_SIGNATURES.map((s) => [s.name, s] as const));

export const signatureOf = (name: string): Signature | undefined => byName.get(name);

/** Statement names allowed in a block of a context (experiments also take every train setting). */
export function namesFor(context: Context): string[] {
  const contexts: Context[] = context === "experiment" ? ["experiment", "train"] : [context];
  return ALL_SIGNATURES.filter((s) => contexts.includes(s.context)).map((s) => s.name);
}

/** "in [0, 1)", "> 0", ">= 1": the constraint part of an out-of-range message. */
export function describeRange(r: Range, integer: boolean): string {
  const lo = r.min === undefined ? undefined : `${r.minExclusive ? "(" : "["}${r.min}`;
  const hi = r.max === undefined ? undefined : `${r.max}${r.maxExclusive ? ")" : "]"}`;
  const what = integer ? "an integer " : "";
  if (lo !== undefined && hi !== undefined) return `${what}in ${lo}, ${hi}`;
  if (lo !== undefined) return `${what}${r.minExclusive ? ">" : ">="} ${r.min}`;
  if (hi !== undefined) return `${what}${r.maxExclusive ? "<" : "<="} ${r.max}`;
  return integer ? "an integer" : "a number";
}

export const inRange = (x: number, r: Range | undefined): boolean =>
  !r ||
  ((r.min === undefined || (r.minExclusive ? x > r.min : x >= r.min)) &&
    (r.max === undefined || (r.maxExclusive ? x < r.max : x <= r.max)));

/** How a value of this type reads in usage strings and messages. */
export function metavar(type: ValueType): string {
  switch (type.kind) {
    case "int":
      return "N";
    case "number":
      return "NUM";
    case "bool":
      return "true|false";
    case "enum":
      return type.metavar ?? type.values.join("|");
    case "dims":
      return "DIMS";
    case "pair":
      return "K|KxK";
    case "text":
      return "TEXT";
    case "name":
      return "NAME";
    case "any":
      return "VALUE";
  }
}

/** What a type expects, for "'dense' expects an integer for UNITS" messages. */
export function expectedText(type: ValueType): string {
  switch (type.kind) {
    case "int":
      return "an integer";
    case "number":
      return "a number";
    case "bool":
      return "true or false";
    case "enum":
      return type.values.length <= 8
        ? `one of ${type.values.join(", ")}`
        : `a name (${type.values.join(", ")})`;
    case "dims":
      return "a shape like 784, 28x28 or 28x28x1";
    case "pair":
      return "a size like 3 or 3x3";
    case "text":
      return "a word or a quoted string";
    case "name":
      return "a name";
    case "any":
      return "a value";
  }
}

/** `dense UNITS [ACTIVATION] [bias=true|false] ...`: derived from the table, so it cannot drift. */
export function usage(sig: Signature): string {
  const parts = [sig.name];
  for (const p of sig.positional) {
    const text = p.variadic ? `${p.name}...` : p.name;
    parts.push(p.required ? text : `[${text}]`);
  }
  for (const o of sig.options) parts.push(`[${o.name}=${metavar(o.type)}]`);
  return parts.join(" ");
}
