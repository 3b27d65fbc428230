// Test helpers for the builder and checker: source text -> syntax tree -> IR (-> checked IR), and short views
// of diagnostics. Trees come from the real parser (src/parse/parse.ts).
import { buildProgram, type BuildResult } from "../../src/build/build.ts";
import { checkProgram } from "../../src/check/check.ts";
import type { Diagnostic } from "../../src/diagnostics/index.ts";
import type { Layer, Program } from "../../src/ir/schema.ts";
import { parseSource } from "../../src/parse/parse.ts";

export function build(text: string, filename?: string): BuildResult {
  return buildProgram(parseSource(text).tree, filename === undefined ? {} : { filename });
}

export const codes = (diags: readonly Diagnostic[]): string[] => diags.map((d) => d.code);

/** Builds and checks; fails the test (throws) on any error diagnostic. */
export function checked(text: string): { program: Program; diagnostics: Diagnostic[] } {
  const built = build(text);
  const errors = built.diagnostics.filter((d) => d.severity === "error");
  if (!built.program || errors.length)
    throw new Error(`build failed: ${errors.map((d) => d.message).join("; ")}`);
  return checkProgram(built.program);
}

/** Diagnostics of building and checking (the checker runs when the builder made a program). */
export function diagnosticsOf(text: string): Diagnostic[] {
  const built = build(text);
  if (!built.program) return built.diagnostics;
  return [...built.diagnostics, ...checkProgram(built.program, { gaps: built.gaps }).diagnostics];
}

/** The layers of the single model of a file of bare layers. */
export function layersOf(text: string): Layer[] {
  const built = build(text);
  if (!built.program) throw new Error(`no program: ${built.diagnostics.map((d) => d.message).join("; ")}`);
  return built.program.models[0]!.layers;
}

/** The source text a diagnostic's span covers. */
export const spanText = (text: string, d: Diagnostic): string =>
  d.span ? text.slice(d.span[0], d.span[1]) : "";
