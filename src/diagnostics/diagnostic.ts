// Diagnostics as data: what every phase returns instead of throwing for a user's mistake.
// A diagnostic is plain JSON (so `--format json` prints it as it is); line and column are filled in by
// `locate()` once the source text is known, because the phases that find problems see only spans.
import { catalogue, type Code, type ParamsOf, type Severity } from "./catalogue.ts";
import type { Span } from "../ir/schema.ts";

export interface Diagnostic {
  code: Code;
  severity: Severity;
  message: string;
  /** File the span points into; absent for problems of a whole run (e.g. a missing data set). */
  file?: string;
  span?: Span;
  /** 1-based, filled in by locate(). */
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  /** "did you mean ..." and other fixes, shown as `= help:` lines. */
  help?: string;
  notes?: string[];
  /** Other places the message concerns, e.g. the block use a layer was expanded from (located like `span`). */
  related?: RelatedPlace[];
}

export interface RelatedPlace {
  span: Span;
  message: string;
  /** 1-based, filled in by locate(). */
  line?: number;
  column?: number;
}

export interface DiagnosticExtras {
  span?: Span;
  file?: string;
  help?: string;
  notes?: string[];
  related?: RelatedPlace[];
}

/** Builds a diagnostic from the catalogue: the only way messages are made, so wording lives in one place. */
export function diagnostic<C extends Code>(
  code: C,
  params: ParamsOf<C>,
  extras: DiagnosticExtras = {},
): Diagnostic {
  const entry = catalogue[code];
  const message = (entry.message as (p: ParamsOf<C>) => string)(params);
  const d: Diagnostic = { code, severity: entry.severity, message };
  if (extras.file !== undefined) d.file = extras.file;
  if (extras.span !== undefined) d.span = extras.span;
  if (extras.help !== undefined) d.help = extras.help;
  if (extras.notes !== undefined && extras.notes.length > 0) d.notes = extras.notes;
  if (extras.related !== undefined && extras.related.length > 0) d.related = extras.related;
  return d;
}

/** An error carrying a diagnostic, for code paths (data loading, training) where unwinding is the natural flow. */
export class NncError extends Error {
  readonly diagnostic: Diagnostic;
  constructor(d: Diagnostic) {
    super(d.message);
    this.name = "NncError";
    this.diagnostic = d;
  }
}

export function fail<C extends Code>(code: C, params: ParamsOf<C>, extras: DiagnosticExtras = {}): never {
  throw new NncError(diagnostic(code, params, extras));
}

export const hasErrors = (diags: readonly Diagnostic[]): boolean => diags.some((d) => d.severity === "error");

/** --strict: every warning becomes an error (the code stays, so tools can still tell lints apart). */
export const promoteWarnings = (diags: readonly Diagnostic[]): Diagnostic[] =>
  diags.map((d) => (d.severity === "warning" ? { ...d, severity: "error" } : d));

/**
 * Warnings (and hints) of one code a file reports in full. A generated or pasted spec can repeat one mistake thousands of
 * times (20,000 'relu' lines make 20,000 W403s, 100,000 lines of output and as many squiggles in an editor):
 * the first few say it, the last of them says how many more there are.
 */
export const MAX_WARNINGS_PER_CODE = 20;

/**
 * The diagnostics (sorted) with at most MAX_WARNINGS_PER_CODE warnings of each code: the last one kept notes how
 * many more there were. Errors are bounded where they are found (E107, E226): they are all kept here.
 */
export function boundWarnings(sorted: readonly Diagnostic[]): Diagnostic[] {
  const total = new Map<string, number>();
  for (const d of sorted) if (d.severity !== "error") total.set(d.code, (total.get(d.code) ?? 0) + 1);
  if (![...total.values()].some((n) => n > MAX_WARNINGS_PER_CODE)) return [...sorted];
  const seen = new Map<string, number>();
  const out: Diagnostic[] = [];
  for (const d of sorted) {
    if (d.severity === "error") {
      out.push(d);
      continue;
    }
    const n = (seen.get(d.code) ?? 0) + 1;
    seen.set(d.code, n);
    if (n > MAX_WARNINGS_PER_CODE) continue;
    const more = total.get(d.code)! - MAX_WARNINGS_PER_CODE;
    if (n < MAX_WARNINGS_PER_CODE || more <= 0) out.push(d);
    else {
      const note = `${more} more ${d.code} ${d.severity}${more === 1 ? "" : "s"} after this one not shown`;
      out.push({ ...d, notes: [...(d.notes ?? []), note] });
    }
  }
  return out;
}

/** Sorted by position so a file's problems read top to bottom. */
export const sortDiagnostics = (diags: readonly Diagnostic[]): Diagnostic[] =>
  [...diags].sort(
    (a, b) => (a.span?.[0] ?? -1) - (b.span?.[0] ?? -1) || (a.span?.[1] ?? -1) - (b.span?.[1] ?? -1),
  );
