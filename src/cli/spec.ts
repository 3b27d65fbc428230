// Shared by the CLI commands: compile a spec file and print its diagnostics the way a compiler does.
import { readFileSync } from "node:fs";
import { compileFile } from "../compile.ts";
import {
  SourceText,
  hasErrors,
  renderDiagnostics,
  summarize,
  fail,
  type Diagnostic,
} from "../diagnostics/index.ts";
import type { Model, Program } from "../ir/schema.ts";
import type { CliIO } from "./io.ts";

/** Source texts for the files diagnostics point into, so rendering can show the line and caret. */
export function sourcesFor(diags: readonly Diagnostic[]): Map<string, SourceText> {
  const sources = new Map<string, SourceText>();
  for (const d of diags) {
    if (!d.file || d.line === undefined || sources.has(d.file)) continue;
    try {
      sources.set(d.file, new SourceText(d.file, readFileSync(d.file, "utf8")));
    } catch {
      // The file went away since compiling: print the diagnostic without its source line.
    }
  }
  return sources;
}

export function printDiagnostics(io: CliIO, diags: readonly Diagnostic[]): void {
  if (diags.length === 0) return;
  io.err(renderDiagnostics(diags, sourcesFor(diags), { color: io.color }) + "\n\n");
}

/** Compiles a file for a command that needs a program: prints diagnostics; undefined when there were errors. */
export async function compileForCommand(
  io: CliIO,
  file: string,
  options: { strict?: boolean } = {},
): Promise<Program | undefined> {
  const result = await compileFile(file, { strict: options.strict ?? false });
  printDiagnostics(io, result.diagnostics);
  if (hasErrors(result.diagnostics) || !result.program) {
    io.err(`${file}: ${summarize(result.diagnostics)}\n`);
    return undefined;
  }
  return result.program;
}

/** The model a command works on: --model NAME, or the only model of the file. */
export function pickModel(program: Program, name: string | undefined, file: string): Model {
  const names = program.models.map((m) => m.name);
  if (name !== undefined) {
    const model = program.models.find((m) => m.name === name);
    if (!model) fail("E604", { name, known: names.join(", ") }, { file });
    return model;
  }
  if (program.models.length > 1) fail("E605", { file, known: names.join(", ") });
  return program.models[0]!;
}
