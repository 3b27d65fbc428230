// Building the IR: the one table of every statement nnc accepts: layer ops (each declared by its op module,
// src/ops/), train settings and experiment settings, with arguments, options, types, defaults, ranges and
// docs. The binder, usage strings, "did you mean" candidates and docs/language.md are all derived from it.
import { OPTIMIZER_DEFAULTS } from "../ir/optimizer-defaults.ts";
import { BNSTATS, INITIALIZERS, LOSSES, MAX_SEED, OPTIMIZERS, VARY_KEYS } from "../ir/schema.ts";
import { OPS } from "../ops/index.ts";
import { AUGMENT_SIGNATURE } from "./augment-signature.ts";
import { SCHEDULE_SIGNATURES } from "./schedule-signatures.ts";
import { WATCH_DEFAULTS, WATCH_SIDES } from "../ir/watch.ts";
import {
  bool,
  int,
  num,
  oneOf,
  positive,
  unit,
  type Context,
  type ParamSpec,
  type Range,
  type Signature,
  type ValueType,
} from "../ops/signature.ts";

export type { Context, ParamSpec, Range, Signature, ValueType } from "../ops/signature.ts";

/** Every layer statement, from the op modules (src/ops/), in registry order. */
export const LAYER_SIGNATURES: Signature[] = OPS.flatMap((o) => o.signatures);

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
/**
 * Options every optimizer takes, with Keras 3's meaning (keras/src/optimizers/base_optimizer.py): the gradients
 * are clipped first (at most one of clipnorm, clipvalue, global_clipnorm), then every trainable variable decays,
 * then the optimizer's own update runs.
 */
const weightDecayOption = (dflt?: number): ParamSpec => ({
  name: "weight_decay",
  type: num({ min: 0 }),
  doc:
    "decoupled weight decay: before each update every trainable variable (kernels, biases, batchnorm's " +
    "gamma and beta; not its moving statistics) is multiplied down, w -= w * weight_decay * lr, as Keras does " +
    "it for all trainable variables",
  ...(dflt === undefined ? {} : { default: dflt }),
  field: "weightDecay",
});
const CLIP_OPTIONS: ParamSpec[] = [
  {
    name: "clipnorm",
    type: num(positive),
    doc: "clip each weight's gradient to this L2 norm: g * clipnorm / max(|g|, clipnorm)",
    field: "clipnorm",
  },
  {
    name: "clipvalue",
    type: num(positive),
    doc: "clip each gradient value to [-clipvalue, clipvalue]",
    field: "clipvalue",
  },
  {
    name: "global_clipnorm",
    type: num(positive),
    doc: "scale all gradients together so that their joint L2 norm is at most this",
    field: "globalClipnorm",
  },
];
const adamOptions = (defaults: { beta1: number; beta2: number; epsilon: number }): ParamSpec[] => [
  {
    name: "beta1",
    type: num(unit),
    doc: "decay of the first-moment average",
    default: defaults.beta1,
    field: "beta1",
  },
  {
    name: "beta2",
    type: num(unit),
    doc: "decay of the second-moment average",
    default: defaults.beta2,
    field: "beta2",
  },
  {
    name: "epsilon",
    type: num(positive),
    doc: "added to the denominator",
    default: defaults.epsilon,
    field: "epsilon",
  },
];
/** The optimizers, each a statement of its own (`adam lr=0.01`) and the target of `optimizer NAME ...`. */
const { adam: ADAM, adamw: ADAMW, sgd: SGD, rmsprop: RMSPROP } = OPTIMIZER_DEFAULTS;
const OPTIMIZER_SIGNATURES: Signature[] = [
  optimizerSig("adam", "Adam optimizer", [
    lrOption(ADAM.lr),
    ...adamOptions(ADAM),
    weightDecayOption(),
    ...CLIP_OPTIONS,
  ]),
  optimizerSig("adamw", "AdamW: Adam with decoupled weight decay (Keras 3 AdamW, Loshchilov & Hutter)", [
    lrOption(ADAMW.lr),
    weightDecayOption(ADAMW.weightDecay),
    ...adamOptions(ADAMW),
    ...CLIP_OPTIONS,
  ]),
  optimizerSig("sgd", "stochastic gradient descent", [
    lrOption(SGD.lr),
    { name: "momentum", type: num(unit), doc: "momentum", default: SGD.momentum, field: "momentum" },
    { name: "nesterov", type: bool, doc: "Nesterov momentum", default: SGD.nesterov, field: "nesterov" },
    weightDecayOption(),
    ...CLIP_OPTIONS,
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
    weightDecayOption(),
    ...CLIP_OPTIONS,
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
          "1 for mnist (already in [0, 1]), for CSV 255 when every feature value is an integer in 0..255 and " +
          "some exceeds 1 (pixel bytes), else 1",
        field: "scale",
      },
      {
        name: "label",
        type: { kind: "any" },
        doc:
          "CSV only: the label column, by header name (label=target) or 0-based index, negative from the end " +
          "(label=-1: the last column); default the first column named label, labels, target, class or y, " +
          "else the first column",
        field: "label",
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
          type: oneOf(OPTIMIZERS, OPTIMIZERS.join("|")),
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
    "loss function; auto picks from the output activation and the labels, which are class indices (softmax: " +
      "sparse_categorical_crossentropy; one sigmoid unit: binary_crossentropy; linear: the same from the " +
      "logits, binary for one unit; else mse, with warning W409). Labels are class indices, so every loss needs a " +
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
      {
        name: "label_smoothing",
        type: num({ min: 0, max: 1 }),
        doc:
          "cross-entropies only (E332 otherwise), as Keras' label_smoothing: the target of each sample's label is " +
          "(1 - S) onehot + S / classes for the categorical losses (on nnc's class-index labels, as Keras' " +
          "CategoricalCrossentropy on their one-hot form), y (1 - S) + S / 2 for binary_crossentropy; in the " +
          "training and the evaluation loss",
        field: "labelSmoothing",
      },
    ],
  ),
  {
    ...train(
      "class_weight",
      "per-sample weights of the training loss by label, as Keras' fit(class_weight=): `class_weight balanced` " +
        "(sklearn's n_samples / (n_classes * count of the class) over the training labels) or `class_weight " +
        "0=1.0 1=2.5 ...` (classes not listed weigh 1). The loss is sum(w_i loss_i) / batch, as Keras reduces " +
        "it; validation and test losses are not weighted (Keras weighs only fit's training data)",
      [
        {
          name: "MODE",
          type: oneOf(["balanced"]),
          doc: "balanced, or leave it out and give CLASS=WEIGHT pairs",
          field: "mode",
        },
      ],
    ),
    keyedOptions: { type: num({ min: 0 }), metavar: "CLASS=WEIGHT", doc: "weight of class CLASS (an index)" },
  },
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
  ...SCHEDULE_SIGNATURES,
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
  AUGMENT_SIGNATURE,
  train(
    "watch",
    "record percentiles of a layer's input or output over each watched training batch (training mode), " +
      "every STEPS steps, into the history: as Ioffe & Szegedy's Figure 1 plotted a sigmoid's input. Each " +
      "percentile is taken per unit (channel) over the batch and positions, then averaged over the units " +
      "(unit=K: that unit alone). Repeat the statement to watch several layers",
    [
      { name: "LAYER", type: { kind: "name" }, doc: "the layer's name", required: true, field: "layer" },
      {
        name: "SIDE",
        type: oneOf(WATCH_SIDES, WATCH_SIDES.join("|")),
        doc: "input (an activation layer's input is the pre-activation) or output",
        default: WATCH_DEFAULTS.side,
        field: "side",
      },
    ],
    [
      {
        name: "every",
        type: int(),
        doc: "record at steps 0, STEPS, 2 STEPS, ... counted over the whole run",
        default: WATCH_DEFAULTS.every,
        field: "every",
      },
      {
        name: "low",
        type: num({ min: 0, max: 100 }),
        doc: "the low percentile",
        default: WATCH_DEFAULTS.low,
      },
      {
        name: "mid",
        type: num({ min: 0, max: 100 }),
        doc: "the middle percentile",
        default: WATCH_DEFAULTS.mid,
      },
      {
        name: "high",
        type: num({ min: 0, max: 100 }),
        doc: "the high percentile",
        default: WATCH_DEFAULTS.high,
      },
      {
        name: "unit",
        type: int(0),
        doc: "watch this unit (channel, 0-based) alone instead of the mean over units",
        field: "unit",
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
  experiment(
    "eval_train",
    "each cell also measures the training set in inference mode (population statistics) at every epoch end, " +
      "as nnc train --eval-train: the gap to the running training accuracy",
    [],
  ),
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
      return type.inferred ? "a shape like 7x4x28 or -1x28" : "a shape like 784, 28x28 or 28x28x1";
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
  if (sig.keyedOptions) parts.push(`[${sig.keyedOptions.metavar}...]`);
  return parts.join(" ");
}
