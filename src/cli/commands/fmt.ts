// nnc fmt FILE... [--check|--write]: canonical formatting through nnc's prettier plugin.
import { readSpecFile } from "../../compile.ts";
import { formatSource } from "../../format/index.ts";
import { NncError, SourceText, type Diagnostic } from "../../diagnostics/index.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";
import { printDiagnostics, writeOutput } from "../spec.ts";

export async function fmtCommand(
  io: CliIO,
  files: string[],
  opts: { check?: boolean; write?: boolean },
): Promise<number> {
  if (opts.check && opts.write) {
    io.err("error: --check and --write cannot be used together\n");
    return EXIT.usage;
  }
  if (!opts.check && !opts.write && files.length > 1) {
    io.err("error: formatting several files needs --write or --check\n");
    return EXIT.usage;
  }
  let failed = false;
  const unformatted: string[] = [];
  for (const file of files) {
    // The same read as compiling: E001 for a missing file, E002 for a binary one.
    const read = await readSpecFile(file);
    if ("diagnostics" in read) {
      printDiagnostics(io, read.diagnostics);
      failed = true;
      continue;
    }
    const { text } = read;
    let formatted: string;
    try {
      formatted = await formatSource(text, { filepath: file });
    } catch (e) {
      const diags: Diagnostic[] | undefined =
        e instanceof NncError ? [e.diagnostic] : (e as { diagnostics?: Diagnostic[] }).diagnostics;
      if (!diags) throw e;
      const source = new SourceText(file, text);
      printDiagnostics(io, source.locate(diags.map((d) => ({ ...d, file }))), new Map([[file, source]]));
      io.err(`${file}: not formatted: it has syntax errors\n`);
      failed = true;
      continue;
    }
    if (opts.check) {
      if (formatted !== text) unformatted.push(file);
    } else if (opts.write) {
      if (formatted !== text) {
        writeOutput(file, formatted);
        io.err(`formatted ${file}\n`);
      }
    } else {
      io.out(formatted);
    }
  }
  if (opts.check) {
    for (const file of unformatted) io.err(`${file}: not formatted (run nnc fmt --write ${file})\n`);
    if (unformatted.length === 0 && !failed)
      io.err(`${files.length} file${files.length === 1 ? " is" : "s are"} already formatted\n`);
  }
  return failed || unformatted.length > 0 ? EXIT.errors : EXIT.ok;
}
