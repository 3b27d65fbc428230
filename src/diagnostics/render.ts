// Diagnostics -> text, as compilers print them:
//   specs/x.nn:3:1: error[E200]: unknown layer op 'dence'
//     3 | dence 128 relu
//       | ^~~~~
//       = help: did you mean 'dense'?
// Colour only on a TTY with NO_COLOR unset (the caller decides and passes `color`); golden tests never colour.
import pc from "picocolors";
import type { Diagnostic } from "./diagnostic.ts";
import type { SourceText } from "./source-text.ts";

export interface RenderOptions {
  color?: boolean;
}

export function renderDiagnostic(d: Diagnostic, source?: SourceText, options: RenderOptions = {}): string {
  const c = pc.createColors(options.color ?? false);
  const where = d.file ? (d.line ? `${d.file}:${d.line}:${d.column}: ` : `${d.file}: `) : "";
  const paint = d.severity === "error" ? c.red : d.severity === "warning" ? c.yellow : c.cyan;
  const label = paint(c.bold(`${d.severity}[${d.code}]`));
  const lines = [`${c.bold(where)}${label}: ${d.message}`];
  if (source && d.line !== undefined && d.column !== undefined) {
    const full = source.lineText(d.line).replace(/\t/g, " ");
    const gutter = String(d.line);
    const pad = " ".repeat(gutter.length);
    // The caret runs to the span's end on the same line; a multi-line span is marked to the end of its first line.
    const lastColumn = d.endLine === d.line ? (d.endColumn ?? d.column + 1) : full.length + 1;
    const { text, column, width } = clipLine(full, d.column, Math.max(1, lastColumn - d.column));
    const marker = "^" + "~".repeat(width - 1);
    lines.push(`${pad} ${c.dim("|")}`);
    lines.push(`${gutter} ${c.dim("|")} ${text}`);
    lines.push(`${pad} ${c.dim("|")} ${" ".repeat(column - 1)}${paint(marker)}`);
    for (const note of d.notes ?? []) lines.push(`${pad} = note: ${note}`);
    for (const r of d.related ?? []) {
      if (r.line !== undefined) lines.push(`${pad} = note: ${r.message} at ${d.file}:${r.line}:${r.column}`);
    }
    if (d.help) lines.push(`${pad} = ${c.cyan("help")}: ${d.help}`);
  } else {
    for (const note of d.notes ?? []) lines.push(`  = note: ${note}`);
    if (d.help) lines.push(`  = ${c.cyan("help")}: ${d.help}`);
  }
  return lines.join("\n");
}

/** Longest source line shown whole; longer ones are cut to a window around the caret. */
const MAX_LINE = 120;
const CONTEXT_BEFORE = 40;

/**
 * The part of a long line around the caret, "..." where it was cut, with the caret's column and width in the
 * cut text: a 10,000-character line would otherwise be printed with every diagnostic on it.
 */
export function clipLine(
  text: string,
  column: number,
  width: number,
): { text: string; column: number; width: number } {
  if (text.length <= MAX_LINE) return { text, column, width };
  const start = Math.max(0, Math.min(column - 1 - CONTEXT_BEFORE, text.length - MAX_LINE));
  const end = Math.min(text.length, start + MAX_LINE);
  const head = start > 0 ? "..." : "";
  const clippedWidth = Math.max(1, Math.min(width, end - (column - 1)));
  return {
    text: head + text.slice(start, end) + (end < text.length ? "..." : ""),
    column: column - start + head.length,
    width: clippedWidth,
  };
}

export function renderDiagnostics(
  diags: readonly Diagnostic[],
  sources: ReadonlyMap<string, SourceText> = new Map(),
  options: RenderOptions = {},
): string {
  return diags
    .map((d) => renderDiagnostic(d, d.file ? sources.get(d.file) : undefined, options))
    .join("\n\n");
}

/** "2 errors, 1 warning, 1 hint" for the end of a run. */
export function summarize(diags: readonly Diagnostic[]): string {
  const count = (severity: Diagnostic["severity"]) => diags.filter((d) => d.severity === severity).length;
  const plural = (n: number, w: string) => (n ? `${n} ${w}${n === 1 ? "" : "s"}` : "");
  return [plural(count("error"), "error"), plural(count("warning"), "warning"), plural(count("hint"), "hint")]
    .filter(Boolean)
    .join(", ");
}
