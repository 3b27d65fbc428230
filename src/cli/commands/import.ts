// nnc import FILE.json [-o SPEC.nn] [--data SOURCE]: a Keras or TensorFlow.js Layers model as an nnc spec
// (src/import/), checked before it is written; nothing is written when any layer cannot be imported.
import { basename, extname } from "node:path";
import { readSpecFile } from "../../compile.ts";
import { hasErrors, SourceText, summarize } from "../../diagnostics/index.ts";
import { importKeras } from "../../import/import.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";
import { printDiagnostics, writeOutput } from "../spec.ts";

export async function importCommand(
  io: CliIO,
  file: string,
  opts: { output?: string; data?: string },
): Promise<number> {
  const read = await readSpecFile(file);
  if ("diagnostics" in read) {
    printDiagnostics(io, read.diagnostics);
    return EXIT.errors;
  }
  const specName = opts.output ?? `${basename(file, extname(file))}.nn`;
  const result = await importKeras(read.text, {
    filename: file,
    specName,
    ...(opts.data === undefined ? {} : { data: opts.data }),
  });
  printDiagnostics(io, result.diagnostics, new Map([[file, new SourceText(file, read.text)]]));
  if (!result.ok || !result.text || hasErrors(result.diagnostics)) {
    io.err(`${file}: ${summarize(result.diagnostics)}; nothing written\n`);
    return EXIT.errors;
  }
  if (opts.output) {
    writeOutput(opts.output, result.text);
    io.err(`imported ${result.layers!.length} layers from ${file} into ${opts.output}\n`);
  } else io.out(result.text);
  return EXIT.ok;
}
