// The IR: the one contract between nnc's front end (parse, build, check) and its back ends (lower, train).
// Written once with TypeBox, so the JSON Schema that ajv validates and the TypeScript types cannot drift apart:
// every type below is `Static<typeof Schema>`. The IR is plain JSON: no classes, no tensors, no syntax.
//
// Version policy: `irVersion` changes when a document valid for one version would mean something else (or be
// rejected) under the next. Adding an optional field with a default that keeps old meaning does not bump it.
import { Type, type Static, type TSchema } from "@sinclair/typebox";

export const IR_VERSION = 1;

/** Seeds are 32-bit: the PRNG (src/util/random.ts) reduces larger ones modulo 2^32, so two seeds would collide. */
export const MAX_SEED = 2 ** 32 - 1;

/** A string enum whose static type is the union of its values. */
const literals = <const T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...values], description });

const PositiveInt = (description: string) => Type.Integer({ minimum: 1, description });
const Pair = (description: string) =>
  Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })], { description });

/** [start, end) character offsets into the source the IR was built from (absent for hand-written IR). */
export const SpanSchema = Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 })], {
  description: "[start, end) character offsets into the source file",
});

export const ACTIVATIONS = ["relu", "sigmoid", "tanh", "softmax", "elu", "gelu", "linear"] as const;
export const ActivationSchema = literals(ACTIVATIONS, "activation function");

export const INITIALIZERS = [
  "glorot_uniform",
  "glorot_normal",
  "he_uniform",
  "he_normal",
  "lecun_uniform",
  "lecun_normal",
  "random_normal",
  "random_uniform",
  "zeros",
] as const;
export const InitializerSchema = Type.Object(
  {
    name: literals(INITIALIZERS, "Keras initializer name"),
    scale: Type.Number({
      exclusiveMinimum: 0,
      description:
        "multiplier on the initializer's spread (1 = Keras' default); for random_normal/random_uniform the " +
        "stddev / limit is 0.05 * scale, as Keras' defaults",
    }),
  },
  { additionalProperties: false },
);

export const PADDINGS = ["valid", "same"] as const;
export const PaddingSchema = literals(
  PADDINGS,
  "'valid' (no padding) or 'same' (output = ceil(input / stride))",
);

/** Fields every layer carries. `outputShape` and `params` are written by the checker, never trusted on input. */
const layerCommon = {
  name: Type.String({
    minLength: 1,
    description: "unique layer name, Keras style (dense, dense_1, batch_normalization, ...)",
  }),
  span: Type.Optional(SpanSchema),
  argSpans: Type.Optional(
    Type.Record(Type.String(), SpanSchema, { description: "spans of individual arguments, by IR field" }),
  ),
  outputShape: Type.Optional(
    Type.Array(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]), {
      description: "inferred by the checker; null is the batch dimension",
    }),
  ),
  params: Type.Optional(
    Type.Object(
      { trainable: Type.Integer({ minimum: 0 }), nonTrainable: Type.Integer({ minimum: 0 }) },
      { additionalProperties: false, description: "parameter counts as Keras counts them; from the checker" },
    ),
  ),
};
const layer = <P extends Record<string, TSchema>, O extends string>(op: O, props: P, description: string) =>
  Type.Object(
    { op: Type.Literal(op), ...layerCommon, ...props },
    { additionalProperties: false, description },
  );

export const InputLayer = layer(
  "input",
  { shape: Type.Array(PositiveInt("dimension"), { minItems: 1, description: "per-sample shape, no batch" }) },
  "model input; 28x28x1 for images (NHWC), 784 for vectors",
);
export const FlattenLayer = layer("flatten", {}, "reshape each sample to a vector");
export const DenseLayer = layer(
  "dense",
  {
    units: PositiveInt("output features"),
    activation: ActivationSchema,
    useBias: Type.Boolean(),
    kernelInitializer: InitializerSchema,
  },
  "fully connected: y = activation(x W + b) on [batch, features] input; differs from Keras: Keras applies " +
    "Dense to the last axis of any rank, nnc asks for flatten first",
);
export const BatchNormLayer = layer(
  "batchnorm",
  {
    momentum: Type.Number({
      minimum: 0,
      maximum: 1,
      description: "Keras convention: moving = momentum * moving + (1 - momentum) * batch",
    }),
    epsilon: Type.Number({ exclusiveMinimum: 0 }),
    center: Type.Boolean({ description: "learn beta" }),
    scale: Type.Boolean({ description: "learn gamma" }),
    variance: literals(
      ["biased", "unbiased"],
      "batch variance that feeds the moving variance: biased (Keras 3, tfjs) or unbiased (PyTorch)",
    ),
  },
  "batch normalization over the last (channel) axis",
);
export const ActivationLayer = layer(
  "activation",
  { activation: ActivationSchema },
  "elementwise activation",
);
export const DropoutLayer = layer(
  "dropout",
  { rate: Type.Number({ minimum: 0, exclusiveMaximum: 1, description: "fraction of units dropped" }) },
  "inverted dropout, training only",
);
export const Conv2dLayer = layer(
  "conv2d",
  {
    filters: PositiveInt("output channels"),
    kernelSize: Pair("[height, width]"),
    strides: Pair("[height, width]"),
    padding: PaddingSchema,
    activation: ActivationSchema,
    useBias: Type.Boolean(),
    kernelInitializer: InitializerSchema,
  },
  "2-D convolution over NHWC input",
);
const poolProps = {
  poolSize: Pair("[height, width]"),
  strides: Pair("[height, width]"),
  padding: PaddingSchema,
};
export const MaxPoolLayer = layer("maxpool", poolProps, "2-D max pooling over NHWC input");
export const AvgPoolLayer = layer("avgpool", poolProps, "2-D average pooling over NHWC input");
export const GlobalAvgPoolLayer = layer("globalavgpool", {}, "mean over height and width: NHWC -> NC");
export const LayerNormLayer = layer(
  "layernorm",
  {
    epsilon: Type.Number({ exclusiveMinimum: 0 }),
    center: Type.Boolean(),
    scale: Type.Boolean(),
  },
  "layer normalization over the last axis",
);

export const LayerSchema = Type.Union([
  InputLayer,
  FlattenLayer,
  DenseLayer,
  BatchNormLayer,
  ActivationLayer,
  DropoutLayer,
  Conv2dLayer,
  MaxPoolLayer,
  AvgPoolLayer,
  GlobalAvgPoolLayer,
  LayerNormLayer,
]);

export const ModelSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    span: Type.Optional(SpanSchema),
    layers: Type.Array(LayerSchema, { description: "in order; the first is the input layer" }),
  },
  { additionalProperties: false },
);

export const OPTIMIZERS = ["adam", "sgd", "rmsprop"] as const;
export const OptimizerSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal("adam"),
      lr: Type.Number({ exclusiveMinimum: 0 }),
      beta1: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
      beta2: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
      epsilon: Type.Number({ exclusiveMinimum: 0 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal("sgd"),
      lr: Type.Number({ exclusiveMinimum: 0 }),
      momentum: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
      nesterov: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal("rmsprop"),
      lr: Type.Number({ exclusiveMinimum: 0 }),
      rho: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
      momentum: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
      epsilon: Type.Number({ exclusiveMinimum: 0 }),
    },
    { additionalProperties: false },
  ),
]);

export const LOSSES = [
  "auto",
  "sparse_categorical_crossentropy",
  "categorical_crossentropy",
  "binary_crossentropy",
  "mse",
] as const;
export const LossSchema = Type.Object(
  {
    type: literals(
      LOSSES,
      "'auto' picks from the output activation (src/ir/loss-rules.ts); the checker resolves it where it means the same for every model trained, else each model resolves it",
    ),
    fromLogits: Type.Optional(
      Type.Boolean({
        description:
          "whether the model's outputs are logits; the checker sets it from the output activation " +
          "(warning where a declared value disagrees)",
      }),
    ),
    span: Type.Optional(SpanSchema),
  },
  { additionalProperties: false },
);

export const BNSTATS = ["ema", "exact"] as const;
export const DataSchema = Type.Object(
  {
    source: Type.String({
      minLength: 1,
      description: "mnist | fashion-mnist | idx:PATH | csv:PATH",
    }),
    validation: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        exclusiveMaximum: 1,
        description: "fraction of the training set held out for validation instead of the test set",
      }),
    ),
    limit: Type.Optional(PositiveInt("use at most this many training samples")),
    scale: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description:
          "divide raw values by this; default by source: 255 for IDX and fashion-mnist bytes, 1 for mnist " +
          "(already in [0, 1]), for CSV 255 when a value exceeds 1 (pixel bytes) else 1",
      }),
    ),
    span: Type.Optional(SpanSchema),
  },
  { additionalProperties: false },
);

export const TrainSchema = Type.Object(
  {
    data: DataSchema,
    optimizer: OptimizerSchema,
    loss: LossSchema,
    batch: PositiveInt("mini-batch size"),
    epochs: PositiveInt("passes over the training set"),
    seed: Type.Integer({
      minimum: 0,
      maximum: MAX_SEED,
      description: "seeds initialization, shuffling and dropout; 32-bit (the PRNG's state)",
    }),
    bnstats: Type.Object(
      {
        mode: literals(
          BNSTATS,
          "population statistics for inference: moving averages or exact recomputation",
        ),
        sample: Type.Optional(PositiveInt("exact mode: recompute over at most this many training samples")),
      },
      { additionalProperties: false },
    ),
    shuffle: Type.Boolean(),
    init: Type.Optional(
      Type.Object(
        { ...InitializerSchema.properties },
        {
          additionalProperties: false,
          description: "overrides every dense/conv kernel initializer (used by experiments)",
        },
      ),
    ),
    span: Type.Optional(SpanSchema),
  },
  { additionalProperties: false },
);

export const VARY_KEYS = [
  "batch",
  "lr",
  "optimizer",
  "epochs",
  "bnstats",
  "seed",
  "init",
  "init_scale",
] as const;
export const ExperimentSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    compare: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: "names of the models compared",
    }),
    vary: Type.Array(
      Type.Object(
        {
          key: literals(VARY_KEYS, "the training setting varied"),
          values: Type.Array(Type.Union([Type.Number(), Type.String()]), { minItems: 1 }),
          span: Type.Optional(SpanSchema),
        },
        { additionalProperties: false },
      ),
      { description: "the grid is the product of the models and every vary list" },
    ),
    repeat: PositiveInt("runs per cell with seeds seed, seed+1, ..."),
    lrScale: Type.Object(
      {
        rule: literals(["none", "linear", "sqrt"], "how lr follows the batch size when batch varies"),
        referenceBatch: PositiveInt("the batch size at which lr is the train lr"),
      },
      { additionalProperties: false },
    ),
    target: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 1,
        description: "validation accuracy whose first epoch is reported (epochs to target)",
      }),
    ),
    train: Type.Optional(
      Type.Partial(Type.Omit(TrainSchema, ["span"]), {
        description: "settings that override the file's train",
      }),
    ),
    span: Type.Optional(SpanSchema),
  },
  { additionalProperties: false },
);

export const ProgramSchema = Type.Object(
  {
    irVersion: Type.Literal(IR_VERSION),
    source: Type.Optional(
      Type.Object(
        { file: Type.String(), sha256: Type.Optional(Type.String({ pattern: "^[0-9a-f]{64}$" })) },
        { additionalProperties: false },
      ),
    ),
    models: Type.Array(ModelSchema, { minItems: 1 }),
    train: TrainSchema,
    experiments: Type.Array(ExperimentSchema),
  },
  {
    $id: "urn:nnc:ir:1",
    title: "nnc IR",
    description: "a checked nnc program: models, training settings and experiments",
    additionalProperties: false,
  },
);

export type Span = Static<typeof SpanSchema>;
export type Activation = Static<typeof ActivationSchema>;
export type Initializer = Static<typeof InitializerSchema>;
export type Layer = Static<typeof LayerSchema>;
export type LayerOp = Layer["op"];
export type LayerOf<O extends LayerOp> = Extract<Layer, { op: O }>;
export type Model = Static<typeof ModelSchema>;
export type Optimizer = Static<typeof OptimizerSchema>;
export type Loss = Static<typeof LossSchema>;
export type DataRef = Static<typeof DataSchema>;
export type Train = Static<typeof TrainSchema>;
export type Experiment = Static<typeof ExperimentSchema>;
export type Program = Static<typeof ProgramSchema>;
