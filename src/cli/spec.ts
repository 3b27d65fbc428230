// Shared by the CLI commands: compile a spec file and print its diagnostics the way a compiler does.
import { existsSync, readFileSync, statSync } from "node:fs";
import { compileFile, type CompileResult } from "../compile.ts";
import {
  SourceText,
  hasErrors,
  renderDiagnostics,
  summarize,
  fail,
  type Diagnostic,
} from "../diagnostics/index.ts";
import type { Model, Program } from "../ir/schema.ts";
import type { CommandLineRun } from "../check/schedule.ts";
import { withCommandLine } from "./check-overrides.ts";
import { writeFileAtomic } from "../save/atomic.ts";
import type { CliIO } from "./io.ts";

/**
 * Source texts for the files diagnostics point into, so rendering can show the line and caret: `known` (the
 * text that was compiled) first; any other file is read.
 */
function sourcesFor(
  diags: readonly Diagnostic[],
  known: ReadonlyMap<string, SourceText> = new Map(),
): Map<string, SourceText> {
  const sources = new Map(known);
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

/**
 * Prints diagnostics with their source lines. Hints (how a valid spec could read better) only where asked:
 * `nnc check` shows them; a command that trains or summarises should not repeat them at every run.
 */
export function printDiagnostics(
  io: CliIO,
  all: readonly Diagnostic[],
  known?: ReadonlyMap<string, SourceText>,
  options: { hints?: boolean } = {},
): void {
  const diags = options.hints ? all : withoutHints(all);
  if (diags.length === 0) return;
  io.err(renderDiagnostics(diags, sourcesFor(diags, known), { color: io.color }) + "\n\n");
}

export const withoutHints = (diags: readonly Diagnostic[]): Diagnostic[] =>
  diags.filter((d) => d.severity !== "hint");

/** The compiled text of a file as rendering wants it: diagnostics show the text that was compiled. */
export const sourceOf = (file: string, result: CompileResult): Map<string, SourceText> =>
  result.source ? new Map([[file, new SourceText(file, result.source.text)]]) : new Map();

export interface CompiledSpec {
  program: Program;
  /** The spec's text and the sha256 of its bytes, read once. */
  source: { text: string; sha256: string };
}

/** Compiles a file for a command that needs a program: prints diagnostics; undefined when there were errors. */
export async function compileSpec(
  io: CliIO,
  file: string,
  options: {
    strict?: boolean;
    /** What the command line changes in the run (--epochs, --lr): checked instead of the spec's values. */
    commandLine?: (program: Program) => CommandLineRun;
    /** compileFile's result for this file and `strict`, when the command has it already (nnc train). */
    compiled?: CompileResult;
  } = {},
): Promise<CompiledSpec | undefined> {
  const strict = options.strict ?? false;
  const result = options.compiled ?? (await compileFile(file, { strict }));
  const sources = sourceOf(file, result);
  // Checked also with errors: the command line may override the settings an error was about.
  const program = result.program ?? result.checked;
  const diagnostics =
    options.commandLine && program
      ? withCommandLine(result.diagnostics, program, options.commandLine(program), {
          strict,
          source: sources.get(file),
        })
      : result.diagnostics;
  printDiagnostics(io, diagnostics, sources);
  if (hasErrors(diagnostics) || !program || !result.source) {
    io.err(`${file}: ${summarize(withoutHints(diagnostics))}\n`);
    return undefined;
  }
  return { program, source: result.source };
}

/** compileSpec for commands that need only the program. */
export async function compileForCommand(
  io: CliIO,
  file: string,
  options: { strict?: boolean } = {},
): Promise<Program | undefined> {
  return (await compileSpec(io, file, options))?.program;
}

/** The model a command works on: --model NAME, or the only model of the file. */
export function pickModel(program: Program, name: string | undefined, file: string): Model {
  const names = program.models.map((m) => m.name);
  if (name !== undefined) {
    const model = program.models.find((m) => m.name === name);
    // The checker's code for the same mistake in a spec (an experiment comparing an unknown model).
    if (!model) fail("E305", { name, known: names.join(", ") }, { file });
    return model;
  }
  if (program.models.length > 1) fail("E605", { file, known: names.join(", ") });
  return program.models[0]!;
}

/**
 * Writes a command's output file atomically (a reader or a crash sees the old file or the whole new one);
 * E007 when it cannot be written (a folder, no permission, a full disk) instead of an internal error.
 */
export function writeOutput(file: string, text: string): void {
  if (existsSync(file) && statSync(file).isDirectory()) fail("E007", { file, reason: "it is a folder" });
  writeFileAtomic(file, text); // E007 (WriteError) itself when the write fails, naming why
}
