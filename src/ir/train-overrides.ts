// IR helper: training settings with overrides laid over them (an experiment's train block, command-line options,
// an experiment cell's varied values, the API's fit options). Pure: takes a Train and a partial, gives a new Train.
import type { DataRef, Optimizer, Train } from "./schema.ts";

/** What may be overridden. Undefined fields are ignored, so callers can pass options as they come. */
export interface TrainOverrides extends Partial<Omit<Train, "data" | "bnstats" | "optimizer">> {
  data?: Partial<DataRef> | undefined;
  bnstats?: Partial<Train["bnstats"]> | undefined;
  /** With `type`: a whole optimizer that replaces the base one; without: fields (e.g. lr) of the base one. */
  optimizer?: Optimizer | Partial<Omit<Optimizer, "type">> | undefined;
}

const defined = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * `train` with `overrides` applied: top-level settings replaced, `data` and `bnstats` merged field by field,
 * the optimizer replaced (when the override names its type) or merged. A data source that changes drops the
 * base's span, which pointed at the old source, and its CSV label column.
 */
export function withTrainOverrides(train: Train, overrides: TrainOverrides | undefined): Train {
  if (!overrides) return { ...train };
  const { data, bnstats, optimizer, ...rest } = overrides;
  const out: Train = { ...train, ...defined(rest) };
  if (data) {
    const merged: DataRef = { ...train.data, ...defined(data) };
    if (data.source !== undefined && data.source !== train.data.source) {
      if (data.span === undefined) delete merged.span;
      // label= names a column of the old source's file: another source has its own (or none).
      if (data.label === undefined) delete merged.label;
    }
    out.data = merged;
  }
  if (bnstats) out.bnstats = { ...train.bnstats, ...defined(bnstats) };
  if (optimizer) {
    out.optimizer =
      "type" in optimizer && optimizer.type !== undefined
        ? { ...optimizer }
        : ({ ...train.optimizer, ...defined(optimizer) } as Optimizer);
  }
  return out;
}
