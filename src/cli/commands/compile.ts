// nnc compile FILE --emit ir: the checked IR as JSON (what a back end consumes); --emit schema: the IR's schema.
import { irJsonSchema } from "../../ir/validate.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";
import { compileForCommand, writeOutput } from "../spec.ts";

export async function compileCommand(
  io: CliIO,
  file: string | undefined,
  opts: { emit: "ir" | "schema"; strict?: boolean; output?: string },
): Promise<number> {
  let value: unknown;
  if (opts.emit === "schema") {
    value = irJsonSchema();
  } else {
    if (file === undefined) {
      io.err("error: nnc compile needs a FILE (or --emit schema)\n");
      return EXIT.usage;
    }
    const program = await compileForCommand(io, file, { strict: opts.strict ?? false });
    if (!program) return EXIT.errors;
    value = program;
  }
  const text = JSON.stringify(value, null, 2) + "\n";
  if (opts.output) writeOutput(opts.output, text);
  else io.out(text);
  return EXIT.ok;
}
