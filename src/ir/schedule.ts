// IR: learning-rate schedules (`schedule NAME ...`) and early stopping (`early_stop ...`) in `train`: their
// schema, their defaults (Keras' where Keras has the setting), and their text as a spec writes it (the run
// header, the manifest, `vary schedule` values). Pure data: no builder, no tfjs. The rates themselves are
// src/ir/learning-rate.ts.
import { Type, type Static } from "@sinclair/typebox";
import { PositiveInt, SpanSchema } from "./common.ts";

export const SCHEDULES = ["constant", "step", "exponential", "cosine", "onecycle", "plateau"] as const;
export type ScheduleType = (typeof SCHEDULES)[number];

const warmup = Type.Optional(
  Type.Integer({ minimum: 0, description: "epochs of linear warm-up from 0 before the schedule" }),
);
const span = Type.Optional(SpanSchema);
const strict = { additionalProperties: false } as const;

export const ScheduleSchema = Type.Union(
  [
    Type.Object({ type: Type.Literal("constant"), warmup, span }, strict),
    Type.Object(
      {
        type: Type.Literal("step"),
        every: PositiveInt("multiply the rate by factor every this many epochs"),
        factor: Type.Number({ minimum: 0, description: "the multiplier" }),
        warmup,
        span,
      },
      strict,
    ),
    Type.Object(
      {
        type: Type.Literal("exponential"),
        rate: Type.Number({ exclusiveMinimum: 0, description: "the multiplier per epoch" }),
        warmup,
        span,
      },
      strict,
    ),
    Type.Object(
      {
        type: Type.Literal("cosine"),
        min: Type.Number({ minimum: 0, description: "the rate at the end of the run (Keras alpha * lr)" }),
        warmup,
        span,
      },
      strict,
    ),
    Type.Object(
      {
        type: Type.Literal("onecycle"),
        max: Type.Optional(
          Type.Number({ exclusiveMinimum: 0, description: "the peak rate (default: the optimizer's lr)" }),
        ),
        warmup,
        span,
      },
      strict,
    ),
    Type.Object(
      {
        type: Type.Literal("plateau"),
        patience: Type.Integer({ minimum: 1, description: "epochs without improvement before a reduction" }),
        factor: Type.Number({
          exclusiveMinimum: 0,
          exclusiveMaximum: 1,
          description: "new lr = lr * factor",
        }),
        min: Type.Number({ minimum: 0, description: "the lowest rate" }),
        warmup,
        span,
      },
      strict,
    ),
  ],
  { description: "the learning rate over the run; absent: the optimizer's lr throughout" },
);
export type Schedule = Static<typeof ScheduleSchema>;

export const MONITORS = ["val_loss", "val_accuracy"] as const;
export const EarlyStopSchema = Type.Object(
  {
    monitor: Type.Union([Type.Literal("val_loss"), Type.Literal("val_accuracy")]),
    patience: Type.Integer({ minimum: 0, description: "epochs without improvement before stopping" }),
    minDelta: Type.Number({ minimum: 0, description: "the least change that counts as an improvement" }),
    restore: Type.Boolean({ description: "keep the best epoch's weights (and batchnorm statistics)" }),
    span,
  },
  { ...strict, description: "stop when the monitored metric stops improving (Keras EarlyStopping)" },
);
export type EarlyStop = Static<typeof EarlyStopSchema>;

/**
 * Each schedule's options, in the order the spec writes them, with defaults (undefined: required, or for
 * onecycle's max the optimizer's lr). `warmup` (default 0) goes with every schedule.
 */
export const SCHEDULE_OPTIONS: {
  readonly [T in ScheduleType]: Readonly<Record<string, number | undefined>>;
} = {
  constant: {},
  step: { every: undefined, factor: 0.1 },
  exponential: { rate: undefined },
  cosine: { min: 0 },
  onecycle: { max: undefined },
  // Keras ReduceLROnPlateau's defaults.
  plateau: { patience: 10, factor: 0.1, min: 0 },
};
/** Options a schedule cannot do without. */
export const REQUIRED_OPTIONS: { readonly [T in ScheduleType]?: readonly string[] } = {
  step: ["every"],
  exponential: ["rate"],
};

/** Keras EarlyStopping's defaults, but restore_best_weights true. */
export const EARLY_STOP_DEFAULTS: Omit<EarlyStop, "span"> = {
  monitor: "val_loss",
  patience: 0,
  minDelta: 0,
  restore: true,
};

/** A schedule from its name and the options given (checked by the caller: known, required present). */
export function makeSchedule(type: ScheduleType, given: Record<string, number>): Schedule {
  const out: Record<string, unknown> = { type };
  for (const [key, dflt] of Object.entries(SCHEDULE_OPTIONS[type])) {
    const value = given[key] ?? dflt;
    if (value !== undefined) out[key] = value;
  }
  if (given.warmup !== undefined && given.warmup > 0) out.warmup = given.warmup;
  return out as Schedule;
}

/** "cosine min=0.0001 warmup=2": the schedule as a spec writes it, every setting shown. */
export function describeSchedule(schedule: Schedule): string {
  const parts: string[] = [schedule.type];
  for (const [key, value] of Object.entries(schedule)) {
    if (key === "type" || key === "span" || key === "warmup") continue;
    parts.push(`${key}=${String(value)}`);
  }
  if (schedule.warmup) parts.push(`warmup=${schedule.warmup}`);
  return parts.join(" ");
}

/** "early_stop monitor=val_loss patience=3 min_delta=0 restore=true". */
export function describeEarlyStop(e: EarlyStop): string {
  return `early_stop monitor=${e.monitor} patience=${e.patience} min_delta=${e.minDelta} restore=${e.restore}`;
}

/**
 * A `vary schedule` value: a schedule name ("cosine") or a schedule with options as the spec writes them after
 * `schedule` ("step every=2 factor=0.5"). The schedule, or why not.
 */
export function parseScheduleText(text: string): { schedule: Schedule } | { error: string } {
  const [name, ...rest] = text.trim().split(/\s+/);
  if (!name || !(SCHEDULES as readonly string[]).includes(name)) {
    return { error: `'${name ?? ""}' is not a schedule (${SCHEDULES.join(", ")})` };
  }
  const type = name as ScheduleType;
  const allowed = [...Object.keys(SCHEDULE_OPTIONS[type]), "warmup"];
  const given: Record<string, number> = {};
  for (const part of rest) {
    const m = /^([a-z_]+)=(.+)$/.exec(part);
    if (!m) return { error: `'${part}' is not KEY=VALUE` };
    const [, key, raw] = m as unknown as [string, string, string];
    if (!allowed.includes(key)) {
      return {
        error: `schedule ${type} takes ${allowed.map((k) => `${k}=`).join(", ")}, not ${key}=`,
      };
    }
    const value = Number(raw);
    if (!Number.isFinite(value)) return { error: `${key}=${raw} is not a number` };
    given[key] = value;
  }
  const missing = (REQUIRED_OPTIONS[type] ?? []).filter((k) => given[k] === undefined);
  if (missing.length > 0) {
    return {
      error: `schedule ${type} needs ${missing.map((k) => `${k}=`).join(", ")}: write it quoted, e.g. "${type} ${missing.map((k) => `${k}=2`).join(" ")}"`,
    };
  }
  const range = scheduleRangeError(type, given);
  if (range) return { error: range };
  return { schedule: makeSchedule(type, given) };
}

/** Why an option value is out of its range for this schedule, or undefined (the schema's ranges, in words). */
export function scheduleRangeError(type: ScheduleType, given: Record<string, number>): string | undefined {
  const bad = (key: string, what: string) => `${key}=${given[key]} must be ${what}`;
  for (const [key, v] of Object.entries(given)) {
    if (key === "warmup" || key === "every" || key === "patience") {
      const min = key === "warmup" ? 0 : 1;
      if (!Number.isSafeInteger(v) || v < min) return bad(key, `an integer >= ${min}`);
    } else if (key === "factor" && type === "plateau") {
      if (!(v > 0 && v < 1)) return bad(key, "in (0, 1) (Keras ReduceLROnPlateau needs factor < 1)");
    } else if (key === "factor" || key === "min") {
      if (!(v >= 0)) return bad(key, ">= 0");
    } else if (!(v > 0)) return bad(key, "> 0");
  }
  return undefined;
}
