// nnc fmt FILE... [--check|--write]: canonical formatting through nnc's prettier plugin.
import { readFileSync, writeFileSync } from "node:fs";
import { formatSource } from "../../format/index.ts";
import { NncError, SourceText, type Diagnostic } from "../../diagnostics/index.ts";
import type { CliIO } from "../io.ts";
import { printDiagnostics } from "../spec.ts";

export async function fmtCommand(
  io: CliIO,
  files: string[],
  opts: { check?: boolean; write?: boolean },
): Promise<number> {
  if (opts.check && opts.write) {
    io.err("error: --check and --write cannot be used together\n");
    return 2;
  }
  if (!opts.check && !opts.write && files.length > 1) {
    io.err("error: formatting several files needs --write or --check\n");
    return 2;
  }
  let failed = false;
  const unformatted: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      io.err(`error: cannot read ${file}: ${(e as Error).message}\n`);
      failed = true;
      continue;
    }
    let formatted: string;
    try {
      formatted = await formatSource(text, { filepath: file });
    } catch (e) {
      const diags: Diagnostic[] | undefined =
        e instanceof NncError ? [e.diagnostic] : (e as { diagnostics?: Diagnostic[] }).diagnostics;
      if (!diags) throw e;
      printDiagnostics(io, new SourceText(file, text).locate(diags.map((d) => ({ ...d, file }))));
      io.err(`${file}: not formatted: it has syntax errors\n`);
      failed = true;
      continue;
    }
    if (opts.check) {
      if (formatted !== text) unformatted.push(file);
    } else if (opts.write) {
      if (formatted !== text) {
        writeFileSync(file, formatted);
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
  return failed || unformatted.length > 0 ? 1 : 0;
}
