// Experiments: the schema of results.json, the file an experiment run writes after every finished cell.
// Written once with TypeBox (types and JSON Schema from one source), validated with ajv by readers and tests.
import { Type, type Static } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { ExperimentSchema, MAX_SEED, TrainSchema, WatchSeriesSchema } from "../ir/schema.ts";
import { EarlyStopRecordSchema } from "../save/schemas.ts";

export const RESULTS_VERSION = 1;

const Num = Type.Number();
const NonNegative = Type.Number({ minimum: 0 });
/** Losses of a diverged run can be NaN or Infinity, which JSON cannot hold: they are written as null. */
const Metric = Type.Union([Type.Number(), Type.Null()]);

export const EpochRecordSchema = Type.Object(
  {
    epoch: Type.Integer({ minimum: 1 }),
    loss: Metric,
    accuracy: Metric,
    valLoss: Metric,
    valAccuracy: Metric,
    trainEvalLoss: Type.Optional(Metric),
    trainEvalAccuracy: Type.Optional(Metric),
    seconds: NonNegative,
    samplesPerSecond: NonNegative,
    lr: Type.Optional(NonNegative),
  },
  { additionalProperties: false },
);

export const CellResultSchema = Type.Object(
  {
    id: Type.String({ description: "hash of the cell's settings (model + effective train): its identity" }),
    index: Type.Integer({ minimum: 0, description: "position in the grid" }),
    model: Type.String(),
    group: Type.String({ description: "model and varied values; cells of a group differ only by repeat" }),
    varied: Type.Record(Type.String(), Type.Union([Num, Type.String()])),
    repeat: Type.Integer({ minimum: 0 }),
    seed: Type.Integer({ minimum: 0, maximum: MAX_SEED }),
    lr: Type.Number({ exclusiveMinimum: 0, description: "the effective learning rate (after lr_scale)" }),
    lrNote: Type.String({ description: "how lr was obtained, e.g. '0.001 x 128/32 (linear)'" }),
    train: TrainSchema,
    status: Type.Union([Type.Literal("ok"), Type.Literal("diverged")]),
    error: Type.Optional(Type.String({ description: "why a diverged cell stopped" })),
    notes: Type.Optional(
      Type.Array(Type.String(), {
        description: "what training did that the settings do not say (e.g. a final one-sample batch merged)",
      }),
    ),
    history: Type.Array(EpochRecordSchema),
    final: Type.Object(
      { loss: Metric, accuracy: Metric, valLoss: Metric, valAccuracy: Metric },
      {
        additionalProperties: false,
        description:
          "the model the cell ends with: the last finished epoch, or early stopping's best with restore=true " +
          "(null when none finished)",
      },
    ),
    earlyStop: Type.Optional(EarlyStopRecordSchema),
    watch: Type.Optional(
      Type.Array(WatchSeriesSchema, { description: "what the train settings' watch statements recorded" }),
    ),
    bestValAccuracy: Metric,
    epochsToTarget: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
        description: "first epoch whose validation accuracy reached the target; null if none did",
      }),
    ),
    seconds: NonNegative,
    samplesPerSecond: NonNegative,
    backend: Type.String(),
    worker: Type.Optional(
      Type.String({ description: "the queue worker that trained it (host:pid), for runs with --queue" }),
    ),
    finishedAt: Type.String({ format: "date-time" }),
  },
  { additionalProperties: false },
);

export const ResultsSchema = Type.Object(
  {
    resultsVersion: Type.Literal(RESULTS_VERSION),
    nncVersion: Type.String(),
    spec: Type.Object(
      {
        file: Type.String(),
        sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
        irSha256: Type.Optional(
          Type.String({
            pattern: "^[0-9a-f]{64}$",
            description:
              "the run's meaning: sha256 of the IR it trains (compared models, train settings, experiment) " +
              "without source positions; what --resume compares, so comments and layout do not count",
          }),
        ),
        text: Type.String({ description: "the spec as it was run" }),
      },
      { additionalProperties: false },
    ),
    experiment: ExperimentSchema,
    lrRule: Type.String({ description: "the lr_scale rule in words" }),
    options: Type.Object(
      {
        epochs: Type.Optional(Type.Integer({ minimum: 1 })),
        limit: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false, description: "run options that changed every cell" },
    ),
    data: Type.String({ description: "the data set as loaded: source, counts, split" }),
    validationName: Type.String({ description: "'test' or 'validation'" }),
    backend: Type.String({ description: "the backend that ran, e.g. 'wasm (SIMD, 1 thread)'" }),
    jobs: Type.Integer({
      minimum: 1,
      description: "cells trained at once: --jobs, or with --queue the number of workers that trained cells",
    }),
    queue: Type.Optional(
      Type.String({
        description: "the Redis queue whose workers trained the cells (--queue), without password",
      }),
    ),
    totalCells: Type.Integer({ minimum: 1 }),
    startedAt: Type.String({ format: "date-time" }),
    updatedAt: Type.String({ format: "date-time" }),
    cells: Type.Array(CellResultSchema, { description: "finished cells, in grid order" }),
  },
  { $id: "urn:nnc:experiment-results:1", title: "nnc experiment results", additionalProperties: false },
);

export type EpochResult = Static<typeof EpochRecordSchema>;
export type CellResult = Static<typeof CellResultSchema>;
export type Results = Static<typeof ResultsSchema>;

const ajv = new Ajv({
  allErrors: true,
  strict: false,
  formats: { "date-time": /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/ },
});
const validator = ajv.compile<Results>(ResultsSchema);

/** Problems with a results document ("/cells/0/lr: must be > 0"), empty when it is valid. */
export function validateResults(value: unknown): string[] {
  if (validator(value)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || "(document)"}: ${e.message ?? "invalid"}`);
}
