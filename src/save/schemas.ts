// Saving: the schemas of what nnc reads back from a model folder or a run folder, besides ir.json (whose schema
// is the IR's): the weightsManifest part of model.json and a checkpoint's header. Written once with TypeBox and
// checked strictly with ajv, as the IR is, so a hand-edited or hostile file is refused with the path of what is
// wrong (E016) instead of failing later as a TypeError. Bounds on counts and dimensions keep every size computed
// from these documents a safe integer.
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { fail, type DiagnosticExtras } from "../diagnostics/index.ts";
import { printable } from "./folder-file.ts";
import { WatchSeriesSchema } from "../ir/watch.ts";

const strict = { additionalProperties: false } as const;

/** One dimension of a weight: at most 2^31 - 1, as TensorFlow.js indexes tensors with int32. */
const Dim = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });
const Shape = Type.Array(Dim, { maxItems: 8 });
const WeightName = Type.String({ minLength: 1, maxLength: 1024 });
const Sha256 = Type.String({ pattern: "^[0-9a-f]{64}$" });

export const TensorEntrySchema = Type.Object({ name: WeightName, shape: Shape }, strict);

/** A weight in a weightsManifest group (TensorFlow.js' layout; nnc writes and reads float32 only). */
export const ManifestWeightSchema = Type.Object(
  { name: WeightName, shape: Shape, dtype: Type.String({ maxLength: 32 }) },
  strict,
);

/** A weightsManifest group: its weights are the concatenation of its files, in order. */
export const WeightsGroupSchema = Type.Object(
  {
    paths: Type.Array(Type.String({ maxLength: 1024 }), { minItems: 1, maxItems: 4096 }),
    weights: Type.Array(ManifestWeightSchema, { maxItems: 100_000 }),
  },
  strict,
);

/**
 * model.json as nnc reads it: only `weightsManifest` (the topology is rebuilt from ir.json, so the rest of the
 * file is for tf.loadLayersModel and is not read).
 */
export const ModelJsonSchema = Type.Object({
  weightsManifest: Type.Array(WeightsGroupSchema, { minItems: 1, maxItems: 4096 }),
});
export type ModelJson = Static<typeof ModelJsonSchema>;

/** Metrics of a diverged epoch can be NaN or Infinity, which JSON writes as null. */
const Metric = Type.Union([Type.Number(), Type.Null()]);

const EpochRecordSchema = Type.Object(
  {
    epoch: Type.Integer({ minimum: 1 }),
    loss: Metric,
    accuracy: Metric,
    valLoss: Metric,
    valAccuracy: Metric,
    trainEvalLoss: Type.Optional(Metric),
    trainEvalAccuracy: Type.Optional(Metric),
    seconds: Metric,
    samplesPerSecond: Metric,
    lr: Type.Optional(Metric),
  },
  strict,
);

/** What early stopping did in a run (history.json's and results.json's `earlyStop`). */
export const EarlyStopRecordSchema = Type.Object(
  {
    monitor: Type.Union([Type.Literal("val_loss"), Type.Literal("val_accuracy")]),
    bestEpoch: Type.Integer({ minimum: 0 }),
    stoppedAfter: Type.Optional(Type.Integer({ minimum: 1 })),
    restored: Type.Boolean(),
  },
  { ...strict, description: "what early stopping did (train early_stop)" },
);

const HistorySchema = Type.Object(
  {
    epochs: Type.Array(EpochRecordSchema),
    notes: Type.Optional(Type.Array(Type.String())),
    threads: Type.Optional(Type.Integer({ minimum: 1 })),
    earlyStop: Type.Optional(EarlyStopRecordSchema),
    watch: Type.Optional(Type.Array(WatchSeriesSchema)),
  },
  strict,
);

/** The JSON header of a checkpoint (layout in checkpoint.ts). */
export const CheckpointHeaderSchema = Type.Object(
  {
    nnc: Type.String({ maxLength: 100 }),
    writtenAt: Type.String({ maxLength: 100 }),
    fingerprint: Type.Object({ sha256: Sha256, parts: Type.Record(Type.String(), Type.Unknown()) }, strict),
    epochsDone: Type.Integer({ minimum: 0 }),
    history: HistorySchema,
    optimizerStep: Type.Integer({ minimum: 0 }),
    computedOn: Type.Optional(
      Type.Object(
        {
          backend: Type.Union([Type.Literal("tensorflow"), Type.Literal("wasm"), Type.Literal("cpu")]),
          threads: Type.Integer({ minimum: 1 }),
        },
        strict,
      ),
    ),
    weights: Type.Array(TensorEntrySchema, { maxItems: 100_000 }),
    slots: Type.Array(TensorEntrySchema, { maxItems: 1_000_000 }),
    /** A plateau schedule's state (src/ir/learning-rate.ts). */
    scheduleEpochs: Type.Optional(Type.Integer({ minimum: 1 })),
    schedule: Type.Optional(
      Type.Object(
        { lr: Type.Number({ minimum: 0 }), best: Metric, wait: Type.Integer({ minimum: 0 }) },
        strict,
      ),
    ),
    /** Early stopping's state; with restore=true the best epoch's weights follow the slots ("best:NAME"). */
    earlyStop: Type.Optional(
      Type.Object(
        {
          best: Metric,
          bestEpoch: Type.Integer({ minimum: 0 }),
          wait: Type.Integer({ minimum: 0 }),
          stopped: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        strict,
      ),
    ),
    best: Type.Optional(Type.Array(TensorEntrySchema, { maxItems: 100_000 })),
    blobSha256: Sha256,
  },
  strict,
);
export type CheckpointHeaderJson = Static<typeof CheckpointHeaderSchema>;

const ajv = new Ajv({ allErrors: false, strict: true });
const validators = new Map<TSchema, ValidateFunction>();

function describe(e: ErrorObject): string {
  if (e.keyword === "additionalProperties") {
    return `unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  }
  if (e.keyword === "required")
    return `missing '${(e.params as { missingProperty: string }).missingProperty}'`;
  return e.message ?? e.keyword;
}

/**
 * `value` as a `Static<S>` when it matches `schema`; E016 naming `file`, the first wrong place
 * ("weightsManifest.0.paths.0") and what is wrong with it otherwise.
 */
export function checkSchema<S extends TSchema>(
  schema: S,
  value: unknown,
  file: string,
  extras: DiagnosticExtras = {},
): Static<S> {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  if (validate(value)) return value as Static<S>;
  const e = validate.errors![0]!;
  const path = e.instancePath.replace(/^\//, "").replace(/\//g, ".");
  return fail("E016", { file, path: printable(path), reason: printable(describe(e)) }, extras);
}
