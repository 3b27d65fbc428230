// Data layer: how many training samples a data setting leaves, before any sample is read: the validation
// hold-out (`validation=F`, or DEFAULT_VALIDATION when the source has no test set) and `limit=N`. One rule for
// loadDataset, which then picks the samples, and for `nnc check`, which knows only the counts (so it can tell
// a batch normalization over one sample before anything trains).
import { fail, type DiagnosticExtras } from "../diagnostics/diagnostic.ts";
import type { DataRef } from "../ir/schema.ts";
import { DEFAULT_VALIDATION } from "./source.ts";

export interface HoldOut {
  fraction: number;
  /** Samples held out as validation. */
  take: number;
  /** The fraction was not written: the source has no test set, so DEFAULT_VALIDATION applies. */
  isDefault: boolean;
}

const count = (n: number): string => n.toLocaleString("en-US");

/**
 * The hold-out of `trainCount` training samples the setting asks for: undefined when the source's test set
 * validates (no `validation=` and a test set). E511 when a written fraction leaves no validation or no
 * training sample; E519 when the default does, saying it is the default and how to choose another.
 */
export function planHoldOut(ref: DataRef, trainCount: number, hasTest: boolean): HoldOut | undefined {
  const isDefault = ref.validation === undefined;
  if (isDefault && hasTest) return undefined;
  const fraction = ref.validation ?? DEFAULT_VALIDATION;
  const take = Math.round(trainCount * fraction);
  if (take >= 1 && take < trainCount) return { fraction, take, isDefault };
  const leaves = take < 1 ? "no validation sample" : "no training sample";
  const at: DiagnosticExtras = ref.span ? { span: ref.span } : {};
  if (!isDefault) {
    fail(
      "E511",
      {
        option: "validation",
        detail: `${fraction} of ${count(trainCount)} training samples leaves ${leaves}`,
      },
      at,
    );
  }
  const works = fractionHoldingOutOne(trainCount);
  const help =
    works !== undefined
      ? `write the fraction on the data setting, e.g. \`data ${ref.source} validation=${works}\` ` +
        `(\`--validation ${works}\` for nnc data), or add a test set (a labelled test.csv beside train.csv)`
      : "a hold-out needs 2 or more training samples: add rows, or a test set (a labelled test.csv beside train.csv)";
  return fail(
    "E519",
    {
      source: ref.source,
      count: trainCount,
      percent: +(fraction * 100).toFixed(2),
      fraction,
      leaves,
    },
    { ...at, help },
  );
}

/** A fraction in hundredths that holds out about one sample and keeps one (0.5 of 2), if there is one. */
function fractionHoldingOutOne(trainCount: number): number | undefined {
  for (let k = Math.ceil(100 / trainCount); k < 100; k++) {
    const take = Math.round(trainCount * (k / 100));
    if (take >= 1 && take < trainCount) return k / 100;
  }
  return undefined;
}

/** Training samples a setting leaves from a source of `trainCount` (and a test set or not): hold-out, limit. */
export function trainingSamples(ref: DataRef, trainCount: number, hasTest: boolean): number {
  const holdOut = planHoldOut(ref, trainCount, hasTest);
  const left = trainCount - (holdOut?.take ?? 0);
  return ref.limit !== undefined ? Math.min(ref.limit, left) : left;
}
