// Experiments on a queue: what travels through Redis. A job is one cell of a spec's experiment (the spec's text,
// the experiment's name, the run's options, the data source as the coordinator resolved it, the cell's settings);
// its progress is a batch or an epoch of that cell; its return value is the cell's CellResult. All three come from
// the network, so each side validates what it receives against these schemas (TypeBox + ajv) before using it.
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { Type, type Static } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { DataSchema, TrainSchema, MAX_SEED } from "../../ir/schema.ts";
import { canonicalJson } from "../../util/canonical-json.ts";
import type { Cell } from "../grid.ts";
import { CellResultSchema, EpochRecordSchema, type CellResult } from "../results-schema.ts";

/** The BullMQ queue every coordinator and worker of one Redis database shares (jobs of all runs). */
export const QUEUE_NAME = "nnc-cells";
/** BullMQ's job name for a cell (what Redis tools list). */
export const JOB_NAME = "cell";
export const JOB_FORMAT = 1;

/** Specs larger than this do not travel (a real spec is a few kB; each job carries it). */
export const MAX_JOB_SPEC_CHARS = 1 << 20;

const Name = Type.String({ minLength: 1, maxLength: 1024 });

export const CellJobSchema = Type.Object(
  {
    format: Type.Literal(JOB_FORMAT),
    nncVersion: Type.String({ minLength: 1, maxLength: 64 }),
    spec: Type.Object(
      {
        file: Type.String({
          minLength: 1,
          maxLength: 4096,
          description: "the spec's path on the coordinator",
        }),
        text: Type.String({ maxLength: MAX_JOB_SPEC_CHARS }),
      },
      { additionalProperties: false },
    ),
    experiment: Name,
    options: Type.Object(
      {
        epochs: Type.Optional(Type.Integer({ minimum: 1 })),
        limit: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
    /** The spec's data with paths made absolute on the coordinator: where a worker must find it. */
    data: DataSchema,
    backend: Type.Union([
      Type.Literal("auto"),
      Type.Literal("tensorflow"),
      Type.Literal("wasm"),
      Type.Literal("cpu"),
    ]),
    cell: Type.Object(
      {
        id: Type.String({ pattern: "^[0-9a-f]{16}$" }),
        index: Type.Integer({ minimum: 0 }),
        model: Name,
        varied: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
        group: Type.String({ maxLength: 4096 }),
        repeat: Type.Integer({ minimum: 0 }),
        seed: Type.Integer({ minimum: 0, maximum: MAX_SEED }),
        train: TrainSchema,
        lrNote: Type.String({ maxLength: 1024 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type CellJob = Static<typeof CellJobSchema>;

/** What a worker reports while a cell trains (job.updateProgress): the running epoch, or a finished one. */
export const CellProgressSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal("batch"),
      epoch: Type.Integer({ minimum: 1 }),
      step: Type.Integer({ minimum: 0 }),
      steps: Type.Integer({ minimum: 0 }),
      samples: Type.Integer({ minimum: 0 }),
      loss: Type.Union([Type.Number(), Type.Null()]),
      accuracy: Type.Union([Type.Number(), Type.Null()]),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal("epoch"), record: EpochRecordSchema }, { additionalProperties: false }),
]);
export type CellProgress = Static<typeof CellProgressSchema>;

/** A job's return value: the cell's result and the worker that trained it. */
export const CellReturnSchema = Type.Object(
  { result: CellResultSchema, worker: Type.String({ maxLength: 1024 }) },
  { additionalProperties: false },
);
export type CellReturn = Static<typeof CellReturnSchema>;

const ajv = new Ajv({
  allErrors: true,
  strict: false,
  formats: { "date-time": /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/ },
});
const jobValidator = ajv.compile<CellJob>(CellJobSchema);
const progressValidator = ajv.compile<CellProgress>(CellProgressSchema);
const returnValidator = ajv.compile<CellReturn>(CellReturnSchema);

const problems = (errors: typeof jobValidator.errors): string[] =>
  (errors ?? []).map((e) => `${e.instancePath || "(job)"}: ${e.message ?? "invalid"}`);

/** Problems with a job's payload ("/cell/seed: must be <= 4294967295"), empty when it is a cell job. */
export function validateCellJob(value: unknown): string[] {
  return jobValidator(value) ? [] : problems(jobValidator.errors);
}

export const isCellProgress = (value: unknown): value is CellProgress => progressValidator(value);

export function validateCellReturn(value: unknown): string[] {
  return returnValidator(value) ? [] : problems(returnValidator.errors);
}

/**
 * The job id of a cell: its id (model + settings) qualified by what the run trains (the IR's hash: two specs may
 * name different models alike), its data as resolved, the backend asked for and the nnc version. Enqueuing a
 * cell twice gives the same id, which BullMQ keeps once. No ':' (BullMQ's key separator), never digits only.
 */
export function cellJobId(job: Omit<CellJob, "cell"> & { cell: Pick<Cell, "id"> }, irSha256: string): string {
  const run = createHash("sha256")
    .update(canonicalJson({ ir: irSha256, data: job.data, backend: job.backend, nnc: job.nncVersion }))
    .digest("hex")
    .slice(0, 16);
  return `cell-${job.cell.id}-${run}`;
}

/** How results and logs name a worker: its host and process. */
export const workerName = (): string => `${hostname()}:${process.pid}`;

/** The payload of a cell's job. */
export function cellJob(base: Omit<CellJob, "cell" | "format">, cell: Cell): CellJob {
  return {
    format: JOB_FORMAT,
    ...base,
    cell: {
      id: cell.id,
      index: cell.index,
      model: cell.model,
      varied: cell.varied as Record<string, number | string>,
      group: cell.group,
      repeat: cell.repeat,
      seed: cell.seed,
      train: cell.train,
      lrNote: cell.lrNote,
    },
  };
}

/** The fields of a result that say which cell it is: a worker's result must match its job's cell in all. */
export function resultMatchesCell(result: CellResult, cell: Cell): string | undefined {
  const want = { id: cell.id, index: cell.index, model: cell.model, seed: cell.seed, repeat: cell.repeat };
  const got = {
    id: result.id,
    index: result.index,
    model: result.model,
    seed: result.seed,
    repeat: result.repeat,
  };
  if (canonicalJson(want) !== canonicalJson(got)) {
    return `it is for ${canonicalJson(got)}, the cell is ${canonicalJson(want)}`;
  }
  if (canonicalJson(result.train) !== canonicalJson(cell.train))
    return "its train settings are not the cell's";
  return undefined;
}
