// nnc check FILE...: every problem of every file, compiler style or as JSON; exit 1 when any file has errors.
// Beyond compiling, the data each file names is looked up (cheaply: no data is read), so a misspelt source or
// a missing folder is found here rather than when training starts.
import { dirname, extname } from "node:path";
import { compileFile } from "../../compile.ts";
import { checkDataSource } from "../../data/index.ts";
import { expandGrid } from "../../experiment/grid.ts";
import {
  hasErrors,
  NncError,
  SourceText,
  sortDiagnostics,
  summarize,
  type Diagnostic,
} from "../../diagnostics/index.ts";
import type { DataRef, Program } from "../../ir/schema.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";
import { printDiagnostics, sourceOf } from "../spec.ts";

/** Data that is simply not on this machine (a Debian package, a folder): a warning, since the spec is fine. */
const NOT_HERE = new Set(["E501", "E502"]);

/**
 * checkDataSource for the file's train data and every experiment's, paths relative to the spec's folder.
 * Each problem is a diagnostic at the `data` setting that names the source (.nn input; IR JSON has no spans
 * into itself): an unknown source or a bad option is an error, data missing on this machine a warning.
 */
function dataDiagnostics(program: Program, file: string, source: SourceText | undefined): Diagnostic[] {
  const refs: DataRef[] = [program.train.data];
  for (const experiment of program.experiments) if (experiment.train?.data) refs.push(experiment.train.data);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const ref of refs) {
    try {
      checkDataSource(ref, { baseDir: dirname(file) });
    } catch (e) {
      if (!(e instanceof NncError)) throw e;
      if (seen.has(e.diagnostic.message)) continue;
      seen.add(e.diagnostic.message);
      const located: Diagnostic = {
        ...e.diagnostic,
        file,
        ...(NOT_HERE.has(e.diagnostic.code) ? { severity: "warning" as const } : {}),
      };
      if (ref.span && source) out.push(...source.locate([{ ...located, span: ref.span }]));
      else out.push(located);
    }
  }
  return out;
}

/**
 * Each experiment's grid expanded (cheap: no data, no training), so what `nnc experiment` would refuse —
 * repeated values, two cells with the same settings, seeds past the largest — is found here too (E633–E635).
 */
function gridDiagnostics(program: Program, file: string, source: SourceText | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const experiment of program.experiments) {
    try {
      expandGrid(program, experiment);
    } catch (e) {
      if (!(e instanceof NncError)) throw e;
      const located: Diagnostic = { ...e.diagnostic, file };
      out.push(...(located.span && source ? source.locate([located]) : [located]));
    }
  }
  return out;
}

export async function checkCommand(
  io: CliIO,
  files: string[],
  opts: { strict?: boolean; format: "text" | "json" },
): Promise<number> {
  const all: Diagnostic[] = [];
  const results: { file: string; ok: boolean; diagnostics: Diagnostic[] }[] = [];
  for (const file of files) {
    const result = await compileFile(file, { strict: opts.strict ?? false });
    const known = sourceOf(file, result);
    let diagnostics = result.diagnostics;
    if (result.ok && result.program) {
      const source = extname(file).toLowerCase() === ".json" ? undefined : known.get(file);
      diagnostics = sortDiagnostics([
        ...diagnostics,
        ...dataDiagnostics(result.program, file, source),
        ...gridDiagnostics(result.program, file, source),
      ]);
    }
    results.push({ file, ok: !hasErrors(diagnostics), diagnostics });
    all.push(...diagnostics);
    if (opts.format === "text") {
      printDiagnostics(io, diagnostics, known);
      io.err(`${file}: ${diagnostics.length ? summarize(diagnostics) : "ok"}\n`);
    }
  }
  const errors = all.filter((d) => d.severity === "error").length;
  if (opts.format === "json") {
    io.out(
      JSON.stringify({ ok: errors === 0, errors, warnings: all.length - errors, files: results }, null, 2) +
        "\n",
    );
  }
  return errors === 0 ? EXIT.ok : EXIT.errors;
}
