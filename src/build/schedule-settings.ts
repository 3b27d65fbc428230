// Building the IR: a bound `schedule` or `early_stop` statement -> its IR object (src/ir/schedule.ts). The one
// `schedule` signature takes every schedule's options; here each option is checked to belong to the schedule
// named (E235), the schedule's required options to be there (E236) and its own ranges to hold (E237).
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import {
  EARLY_STOP_DEFAULTS,
  makeSchedule,
  REQUIRED_OPTIONS,
  SCHEDULE_OPTIONS,
  scheduleRangeError,
  type EarlyStop,
  type Schedule,
  type ScheduleType,
} from "../ir/schedule.ts";
import type { Span } from "../ir/schema.ts";
import type { Bound } from "./bind.ts";

/** The schedule a bound `schedule` statement writes, or undefined after reporting why not. */
export function buildSchedule(bound: Bound, span: Span, diags: Diagnostic[]): Schedule | undefined {
  const type = bound.values.get("NAME") as ScheduleType;
  const own = [...Object.keys(SCHEDULE_OPTIONS[type]), "warmup"];
  const given: Record<string, number> = {};
  const before = diags.length;
  for (const [key, value] of bound.values) {
    if (key === "NAME") continue;
    const at = bound.spans.get(key) ?? span;
    if (!own.includes(key)) {
      const takes = own.map((k) => `${k}=`).join(", ");
      diags.push(
        diagnostic(
          "E235",
          { schedule: type, key, takes },
          { span: at, help: `schedule ${type} takes ${takes}; drop ${key}=` },
        ),
      );
      continue;
    }
    const range = scheduleRangeError(type, { [key]: value as number });
    if (range) {
      diags.push(diagnostic("E237", { schedule: type, detail: range }, { span: at }));
      continue;
    }
    given[key] = value as number;
  }
  for (const key of REQUIRED_OPTIONS[type] ?? []) {
    if (given[key] === undefined && !bound.values.has(key)) {
      diags.push(
        diagnostic(
          "E236",
          { schedule: type, key },
          { span, help: `e.g. schedule ${type} ${key}=${key === "rate" ? "0.9" : "10"}` },
        ),
      );
    }
  }
  if (diags.length > before) return undefined;
  return { ...makeSchedule(type, given), span };
}

/** The early stopping a bound `early_stop` statement writes, Keras' defaults (but restore) for the rest. */
export function buildEarlyStop(bound: Bound, span: Span): EarlyStop {
  const v = <T>(key: string, dflt: T): T => (bound.values.get(key) as T | undefined) ?? dflt;
  return {
    monitor: v("monitor", EARLY_STOP_DEFAULTS.monitor),
    patience: v("patience", EARLY_STOP_DEFAULTS.patience),
    minDelta: v("min_delta", EARLY_STOP_DEFAULTS.minDelta),
    restore: v("restore", EARLY_STOP_DEFAULTS.restore),
    span,
  };
}
