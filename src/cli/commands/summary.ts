// nnc summary FILE: Keras' model.summary() for each model of a spec (or --model NAME), or its JSON, with the
// memory training takes at the spec's batch and optimizer.
import { formatSummary, summarizeModel } from "../../check/summary.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";
import { compileForCommand, pickModel } from "../spec.ts";

export async function summaryCommand(
  io: CliIO,
  file: string,
  opts: { model?: string; json?: boolean },
): Promise<number> {
  const program = await compileForCommand(io, file);
  if (!program) return EXIT.errors;
  const models = opts.model === undefined ? program.models : [pickModel(program, opts.model, file)];
  if (opts.json) {
    const summaries = models.map((m) => ({ model: m.name, ...summarizeModel(m, program.train) }));
    // One model: the summary object itself, as documented; several: an array of them.
    io.out(JSON.stringify(summaries.length === 1 ? summaries[0] : summaries, null, 2) + "\n");
  } else {
    io.out(models.map((m) => formatSummary(summarizeModel(m, program.train), m.name)).join("\n\n") + "\n");
  }
  return EXIT.ok;
}
