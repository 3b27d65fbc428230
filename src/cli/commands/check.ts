// nnc check FILE...: every problem of every file, compiler style or as JSON; exit 1 when any file has errors.
import { compileFile } from "../../compile.ts";
import { hasErrors, summarize, type Diagnostic } from "../../diagnostics/index.ts";
import type { CliIO } from "../io.ts";
import { printDiagnostics } from "../spec.ts";

export async function checkCommand(
  io: CliIO,
  files: string[],
  opts: { strict?: boolean; format: "text" | "json" },
): Promise<number> {
  const all: Diagnostic[] = [];
  const results: { file: string; ok: boolean; diagnostics: Diagnostic[] }[] = [];
  for (const file of files) {
    const { diagnostics } = await compileFile(file, { strict: opts.strict ?? false });
    results.push({ file, ok: !hasErrors(diagnostics), diagnostics });
    all.push(...diagnostics);
    if (opts.format === "text") {
      printDiagnostics(io, diagnostics);
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
  return errors === 0 ? 0 : 1;
}
