// Names people bring from Keras and PyTorch, and what nnc writes instead. Most users come from one of the two,
// and an edit distance cannot get 'MaxPooling2D' to 'maxpool' or 'learning_rate=' to 'lr=': the builder
// consults this table before its did-you-mean, so a Keras spelling gets the nnc spelling, and a layer nnc does
// not have is said to be unsupported instead of being matched to a lookalike ('conv1d' is not 'conv2d').
import { ACTIVATIONS } from "../ir/common.ts";
import type { Context } from "../ops/signature.ts";
import { OPS } from "../ops/index.ts";
import { namesFor, signatureOf } from "./signatures.ts";

/** Keras/PyTorch layer class names (compared case-insensitively) -> the nnc statement, as written. */
const FOREIGN_LAYERS: Record<string, string> = {
  dense: "dense UNITS [ACTIVATION]",
  linear: "dense UNITS", // PyTorch's nn.Linear; lower-case `linear` is nnc's identity activation
  conv2d: "conv2d FILTERS KxK [stride=S] [padding=same]",
  convolution2d: "conv2d FILTERS KxK",
  maxpooling2d: "maxpool 2x2",
  maxpool2d: "maxpool 2x2",
  averagepooling2d: "avgpool 2x2",
  avgpool2d: "avgpool 2x2",
  globalaveragepooling2d: "globalavgpool",
  adaptiveavgpool2d: "globalavgpool",
  batchnormalization: "batchnorm",
  batchnorm1d: "batchnorm",
  batchnorm2d: "batchnorm",
  layernormalization: "layernorm",
  layernorm: "layernorm",
  dropout: "dropout RATE",
  flatten: "flatten",
  inputlayer: "input SHAPE",
  input: "input SHAPE",
  add: "add NAME...",
  concatenate: "concat NAME...",
  activation: "activation NAME",
  relu: "relu",
  softmax: "softmax",
  sigmoid: "sigmoid",
  tanh: "tanh",
  leakyrelu: "leaky_relu [alpha=0.3]",
  prelu: "prelu [shared_axes=AXES]",
  hardsigmoid: "hard_sigmoid",
};

/** Layers other frameworks have and nnc does not: said to be unsupported, never matched to a lookalike. */
const UNSUPPORTED_LAYERS = new Set([
  "conv1d",
  "conv3d",
  "conv2dtranspose",
  "convtranspose2d",
  "depthwiseconv2d",
  "separableconv2d",
  "maxpool3d",
  "maxpooling3d",
  "upsampling2d",
  "zeropadding2d",
  "lstm",
  "gru",
  "rnn",
  "simplernn",
  "embedding",
  "attention",
  "multiheadattention",
  "permute",
  "groupnorm",
  "groupnormalization",
  "instancenorm",
  "instancenormalization",
]);

/** Activations of other frameworks that nnc's activation list lacks. */
const UNSUPPORTED_ACTIVATIONS = new Set(["relu6", "mish", "softsign", "gelu_new", "log_softmax"]);

/** Train settings and optimizer names as Keras writes them -> nnc's. */
const FOREIGN_SETTINGS: Record<string, string> = {
  batch_size: "batch N",
  learning_rate: "optimizer adam lr=X (the learning rate is an optimizer option)",
  lr: "optimizer adam lr=X (the learning rate is an optimizer option)",
  validation_split: "data SOURCE validation=F",
  shuffle_buffer: "shuffle true|false",
};

/** Options as Keras spells them (`name=`) -> what nnc writes. */
const FOREIGN_OPTIONS: Record<string, string> = {
  activation: "write the activation as a word after the layer's arguments: `dense 128 relu`",
  learning_rate: "nnc's option is `lr=`: `optimizer adam lr=0.001`",
  use_bias: "nnc's option is `bias=`: `dense 128 bias=false`",
  kernel_initializer: "nnc's option is `init=`: `dense 128 init=he_normal`",
  strides: "nnc's option is `stride=`: `conv2d 32 3x3 stride=2`",
  kernel_size: "write the kernel size as a shape after the filters: `conv2d 32 3x3`",
  pool_size: "write the pool size as a shape: `maxpool 2x2`",
  filters: "write the filters as the first argument: `conv2d 32 3x3`",
  units: "write the units as the first argument: `dense 128`",
  rate: "write the rate as the argument: `dropout 0.5`",
  beta_1: "nnc's option is `beta1=`",
  beta_2: "nnc's option is `beta2=`",
};

/** Python's spellings of values -> nnc's. */
const FOREIGN_VALUES: Record<string, string> = { True: "true", False: "false" };

/** nnc's layer ops, without the activation words (listed apart). */
const layerOps = () => namesFor("layer").filter((n) => !(ACTIVATIONS as readonly string[]).includes(n));

/**
 * Help for an unknown statement head: the nnc spelling of a Keras/PyTorch name, or that the layer is not
 * supported (with the list of what is). Undefined when the name is nobody's: the caller's did-you-mean decides.
 */
export function foreignStatementHelp(head: string, context: Context): string | undefined {
  const lower = head.toLowerCase();
  if (context === "train" || context === "experiment") {
    const nnc = FOREIGN_SETTINGS[lower];
    return nnc ? `nnc writes this setting as \`${nnc}\`` : undefined;
  }
  if (context !== "layer") return undefined;
  // Only a spelling that differs from nnc's (a class name's capitals): the same word is a real unknown op.
  const nnc = FOREIGN_LAYERS[lower] ?? kerasClassStatement(lower);
  if (nnc) {
    return head !== nnc.split(" ")[0]
      ? `'${head}' is Keras' or PyTorch's name; nnc writes \`${nnc}\``
      : undefined;
  }
  // An op or activation added since these lists were written is nnc's own: never "unsupported".
  if (signatureOf(lower)) return undefined;
  if (UNSUPPORTED_ACTIVATIONS.has(lower)) {
    return `nnc does not support the '${head}' activation; its activations are ${ACTIVATIONS.join(", ")}`;
  }
  if (UNSUPPORTED_LAYERS.has(lower)) {
    return `nnc does not support '${head}' layers; its layer ops are ${layerOps().join(", ")}`;
  }
  return undefined;
}

let kerasClasses: Map<string, string> | undefined;
/**
 * The statement of the op whose Keras classes (its import rule's, src/ops/<op>.ts) include `lower`
 * (`maxpooling2d` -> `maxpool POOL`): an op added to the registry is known here without an entry above.
 */
function kerasClassStatement(lower: string): string | undefined {
  kerasClasses ??= new Map(
    OPS.flatMap((o) => {
      const sig = o.signatures.find((s) => s.name === o.op) ?? o.signatures[0]!;
      const shown = [sig.name, ...sig.positional.filter((p) => p.required).map((p) => p.name)].join(" ");
      return (o.fromKeras?.classNames ?? []).map((c) => [c.toLowerCase(), shown] as const);
    }),
  );
  return kerasClasses.get(lower);
}

/** Help for an unknown `key=` option spelled as Keras does; undefined otherwise. */
export const foreignOptionHelp = (key: string): string | undefined => FOREIGN_OPTIONS[key];

/** The nnc spelling of a Python value (`True` -> `true`); undefined otherwise. */
export const foreignValueHelp = (text: string): string | undefined => {
  const nnc = FOREIGN_VALUES[text];
  return nnc ? `write \`${nnc}\` (nnc's words are lower case)` : undefined;
};
