// nnc check FILE...: every problem of every file, compiler style or as JSON; exit 1 when any file has errors.
// Beyond compiling, the data each file names is looked up and its metadata read (shape, classes, sample counts:
// headers and labels, never the samples), so a misspelt source, a missing folder or a model the data does not
// fit (too few output units, the wrong input shape, batch normalization at batch 1) is found here rather than
// when training starts.
import { dirname, extname } from "node:path";
import { compileFile } from "../../compile.ts";
import { checkData } from "../../check/data-fit.ts";
import { expandGrid } from "../../experiment/grid.ts";
import {
  hasErrors,
  NncError,
  SourceText,
  sortDiagnostics,
  summarize,
  type Diagnostic,
} from "../../diagnostics/index.ts";
import type { Program } from "../../ir/schema.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";
import { printDiagnostics, sourceOf, withoutHints } from "../spec.ts";

/**
 * The spec against its data (src/check/data-fit.ts: the sources' metadata, never their samples), paths relative
 * to the spec's folder. Each problem is located in the spec (.nn input; IR JSON has no spans into itself): an
 * unknown source, a bad option, a model the data does not fit are errors, data missing on this machine a warning.
 */
async function dataDiagnostics(
  program: Program,
  file: string,
  source: SourceText | undefined,
  strict: boolean,
): Promise<Diagnostic[]> {
  const found = await checkData(program, { baseDir: dirname(file) });
  return found.flatMap((d) => {
    // --strict makes lints (W codes) errors; data missing on this machine stays a warning.
    const severity = strict && d.code.startsWith("W") && d.code !== "W530" ? "error" : d.severity;
    const located: Diagnostic = { ...d, severity, file };
    if (located.span && source) return source.locate([located]);
    const { span: _span, related: _related, ...bare } = located;
    return [bare];
  });
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
        ...(await dataDiagnostics(result.program, file, source, opts.strict ?? false)),
        ...gridDiagnostics(result.program, file, source),
      ]);
    }
    results.push({ file, ok: !hasErrors(diagnostics), diagnostics });
    all.push(...diagnostics);
    if (opts.format === "text") {
      printDiagnostics(io, diagnostics, known, { hints: true });
      // Hints leave a spec ok: "ok (2 hints)".
      const problems = withoutHints(diagnostics);
      const hints = diagnostics.length - problems.length;
      io.err(
        `${file}: ${problems.length ? summarize(diagnostics) : `ok${hints ? ` (${summarize(diagnostics)})` : ""}`}\n`,
      );
    }
  }
  const count = (severity: Diagnostic["severity"]) => all.filter((d) => d.severity === severity).length;
  const errors = count("error");
  if (opts.format === "json") {
    const totals = { errors, warnings: count("warning"), hints: count("hint") };
    io.out(JSON.stringify({ ok: errors === 0, ...totals, files: results }, null, 2) + "\n");
  }
  return errors === 0 ? EXIT.ok : EXIT.errors;
}
