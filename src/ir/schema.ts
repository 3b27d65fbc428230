// The IR: the one contract between nnc's front end (parse, build, check) and its back ends (lower, train).
// Written once with TypeBox, so the JSON Schema that ajv validates and the TypeScript types cannot drift apart:
// every type below is `Static<typeof Schema>`. The IR is plain JSON: no classes, no tensors, no syntax.
//
// Version policy: `irVersion` changes when a document valid for one version would mean something else (or be
// rejected) under the next. Adding an optional field with a default that keeps old meaning does not bump it.
import { Type, type Static, type TObject } from "@sinclair/typebox";
import { literals, PositiveInt, SpanSchema, InitializerSchema } from "./common.ts";
import { OPS, type OpDefinition } from "../ops/index.ts";
import { AugmentSchema } from "./augment.ts";
import { WatchSchema } from "./watch.ts";
import { EarlyStopSchema, ScheduleSchema } from "./schedule.ts";

export const IR_VERSION = 2;
/** Older IR versions this nnc still reads (validate.ts upgrades them). Version 1: a model is a chain of layers. */
export const READABLE_IR_VERSIONS = [1, 2] as const;

/** Seeds are 32-bit: the PRNG (src/util/random.ts) reduces larger ones modulo 2^32, so two seeds would collide. */
export const MAX_SEED = 2 ** 32 - 1;

export * from "./common.ts";
export { ScheduleSchema, EarlyStopSchema, type Schedule, type EarlyStop } from "./schedule.ts";
export { WatchSchema, WatchSeriesSchema, type Watch, type WatchSeries } from "./watch.ts";

// Each op's node schema lives in its op module (src/ops/); the IR's node union is the registry's schemas, so an
// op registered there is in the IR, its JSON Schema and its static type, with nothing to add here.
// (Type.Unsafe: each definition's schema is typed as a plain TObject; its node type carries the fields.)
/** Every op's node schema, in registry order (each with `op` a constant). */
export const LAYER_SCHEMAS: readonly TObject[] = OPS.map((o) => o.schema);
export const LayerSchema = Type.Unsafe<Layer>(Type.Union([...LAYER_SCHEMAS]));

/** The IR node type of an op definition. */
type NodeOf<D> = D extends OpDefinition<infer N> ? N : never;

export const ModelSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    span: Type.Optional(SpanSchema),
    layers: Type.Array(LayerSchema, {
      description:
        "the model's graph: nodes in an order where every node's inputs come before it; the first is the " +
        "input node, the last the output",
    }),
  },
  { additionalProperties: false },
);

export const OPTIMIZERS = ["adam", "adamw", "sgd", "rmsprop"] as const;
/**
 * What every optimizer takes besides its own settings, with Keras 3's meaning (keras/src/optimizers/
 * base_optimizer.py): gradients clipped first (`_clip_gradients`: at most one of the three), then decoupled
 * weight decay of every trainable variable (`_apply_weight_decay`: w -= w * weight_decay * lr), then the update.
 */
const optimizerCommon = {
  weightDecay: Type.Optional(
    Type.Number({
      minimum: 0,
      description:
        "decoupled weight decay: every trainable variable w -= w * weightDecay * lr before the update",
    }),
  ),
  clipnorm: Type.Optional(
    Type.Number({ exclusiveMinimum: 0, description: "each weight's gradient clipped to this L2 norm" }),
  ),
  clipvalue: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      description: "each gradient value clipped to [-clipvalue, clipvalue]",
    }),
  ),
  globalClipnorm: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      description: "every gradient scaled so that their joint L2 norm is at most this",
    }),
  ),
  span: Type.Optional(SpanSchema),
};
const adamSettings = {
  lr: Type.Number({ exclusiveMinimum: 0 }),
  beta1: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
  beta2: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
  epsilon: Type.Number({ exclusiveMinimum: 0 }),
};
export const OptimizerSchema = Type.Union([
  Type.Object(
    { type: Type.Literal("adam"), ...adamSettings, ...optimizerCommon },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal("adamw"),
      ...adamSettings,
      ...optimizerCommon,
      weightDecay: Type.Number({
        minimum: 0,
        description: "Keras 3 AdamW: Adam with decoupled weight decay (default 0.004)",
      }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal("sgd"),
      lr: Type.Number({ exclusiveMinimum: 0 }),
      momentum: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
      nesterov: Type.Boolean(),
      ...optimizerCommon,
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
      ...optimizerCommon,
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
    labelSmoothing: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          "cross-entropies: targets (1 - s) onehot + s / classes (categorical) or y (1 - s) + s / 2 (binary), " +
          "as Keras' label_smoothing",
      }),
    ),
    span: Type.Optional(SpanSchema),
  },
  { additionalProperties: false },
);

export const ClassWeightSchema = Type.Union(
  [
    Type.Object(
      { mode: Type.Literal("balanced"), span: Type.Optional(SpanSchema) },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        mode: Type.Literal("given"),
        weights: Type.Record(Type.String({ pattern: "^(0|[1-9][0-9]*)$" }), Type.Number({ minimum: 0 }), {
          description: "weight by class index; classes not listed weigh 1 (Keras)",
        }),
        span: Type.Optional(SpanSchema),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      "per-sample weights of the training loss by label, as Keras' fit(class_weight=): balanced is sklearn's " +
      "n_samples / (n_classes * count of the class) over the training labels",
  },
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
          "(already in [0, 1]), for CSV 255 when every feature value is an integer in 0..255 and some " +
          "exceeds 1 (pixel bytes), else 1",
      }),
    ),
    label: Type.Optional(
      Type.Union([Type.Integer(), Type.String({ minLength: 1 })], {
        description:
          "CSV sources: the label column, by header name or 0-based index (negative from the end); default " +
          "the first column named label, labels, target, class or y, else the first column",
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
    schedule: Type.Optional(ScheduleSchema),
    earlyStop: Type.Optional(EarlyStopSchema),
    init: Type.Optional(
      Type.Object(
        { ...InitializerSchema.properties },
        {
          additionalProperties: false,
          description: "overrides every dense/conv kernel initializer (used by experiments)",
        },
      ),
    ),
    augment: Type.Optional(AugmentSchema),
    classWeight: Type.Optional(ClassWeightSchema),
    watch: Type.Optional(
      Type.Array(WatchSchema, { description: "layers whose input or output is recorded while training" }),
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
  "weight_decay",
  "label_smoothing",
  "augment",
  "schedule",
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
    evalTrain: Type.Optional(
      Type.Boolean({
        description:
          "each cell also measures the training set in inference mode at every epoch end (the train-mode gap)",
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
    $id: "urn:nnc:ir:2",
    title: "nnc IR",
    description: "a checked nnc program: models, training settings and experiments",
    additionalProperties: false,
  },
);

export type Layer = NodeOf<(typeof OPS)[number]>;
export type LayerOp = Layer["op"];
export type LayerOf<O extends LayerOp> = Extract<Layer, { op: O }>;
export type Model = Static<typeof ModelSchema>;
export type Optimizer = Static<typeof OptimizerSchema>;
export type Loss = Static<typeof LossSchema>;
export type DataRef = Static<typeof DataSchema>;
export type Train = Static<typeof TrainSchema>;
export type Experiment = Static<typeof ExperimentSchema>;
export type Program = Static<typeof ProgramSchema>;
