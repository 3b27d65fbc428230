// nnc import FILE.json [-o SPEC.nn] [--data SOURCE] [--weights -o DIR]: a Keras or TensorFlow.js Layers model as
// an nnc spec (src/import/), checked before it is written; nothing is written when any layer cannot be imported.
// With --weights, DIR gets the spec (spec.nn) and a model folder of the imported weights that nnc eval / predict
// load and `nnc train DIR/spec.nn --init-from DIR` starts from.
import { basename, extname, join } from "node:path";
import { readSpecFile } from "../../compile.ts";
import { hasErrors, SourceText, summarize } from "../../diagnostics/index.ts";
import { importKeras } from "../../import/import.ts";
import type { BackendChoice } from "../../runtime/types.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";
import { printDiagnostics, writeOutput } from "../spec.ts";

/** The spec's file name in a --weights folder. */
export const IMPORTED_SPEC = "spec.nn";

export async function importCommand(
  io: CliIO,
  file: string,
  opts: { output?: string; data?: string; weights?: boolean; force?: boolean; backend?: string },
): Promise<number> {
  if (opts.weights && !opts.output) {
    io.err("error: --weights writes a model folder: name it with -o DIR\n");
    return EXIT.usage;
  }
  const read = await readSpecFile(file);
  if ("diagnostics" in read) {
    printDiagnostics(io, read.diagnostics);
    return EXIT.errors;
  }
  const specName = opts.weights
    ? join(opts.output!, IMPORTED_SPEC)
    : (opts.output ?? `${basename(file, extname(file))}.nn`);
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
  if (opts.weights) {
    const { importWeights } = await import("../../import/weights.ts");
    const dir = opts.output!;
    const written = await importWeights(result, {
      modelJson: file,
      dir,
      force: opts.force ?? false,
      backend: (opts.backend ?? "auto") as BackendChoice,
    });
    writeOutput(join(dir, IMPORTED_SPEC), result.text);
    io.err(
      `imported ${result.layers!.length} layers and ${written.weights} weights from ${file} into ${dir}/: ` +
        `${IMPORTED_SPEC} and a model folder (nnc eval ${dir}; nnc predict ${dir}; ` +
        `nnc train ${join(dir, IMPORTED_SPEC)} --init-from ${dir})\n`,
    );
    return EXIT.ok;
  }
  if (opts.output) {
    writeOutput(opts.output, result.text);
    io.err(`imported ${result.layers!.length} layers from ${file} into ${opts.output}\n`);
  } else io.out(result.text);
  return EXIT.ok;
}
