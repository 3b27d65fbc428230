// nnc experiment FILE: trains every cell of one of the spec's experiments (models x varied settings x repeats),
// cells in parallel workers, and writes results.json (after each cell), plots and report.html to --out.
import { availableParallelism } from "node:os";
import { basename, extname, join } from "node:path";
import { pickExperiment, runExperiment } from "../../experiment/run-experiment.ts";
import { parseQueueUrl } from "../../experiment/queue/url.ts";
import { openRunFolder } from "../../save/run-folder.ts";
import type { BackendChoice } from "../../runtime/types.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";
import { compileSpec } from "../spec.ts";

export interface ExperimentOptions {
  name?: string;
  out?: string;
  epochs?: number;
  limit?: number;
  jobs?: number;
  queue?: string;
  backend: BackendChoice;
  resume?: boolean;
  force?: boolean;
  strict?: boolean;
}

const defaultJobs = (): number => availableParallelism();

export async function experimentCommand(io: CliIO, file: string, opts: ExperimentOptions): Promise<number> {
  // A bad --queue URL is a usage error before anything is compiled or loaded.
  const queue = opts.queue !== undefined ? parseQueueUrl(opts.queue) : undefined;
  const compiled = await compileSpec(io, file, {
    strict: opts.strict ?? false,
    // Every cell's schedule and early stopping are checked at the run's --epochs (the experiment's cells only:
    // an unknown or missing --name is pickExperiment's to refuse, below).
    commandLine: (program) => {
      const name = opts.name ?? (program.experiments.length === 1 ? program.experiments[0]!.name : undefined);
      return name === undefined || opts.epochs === undefined ? {} : { experiment: name, epochs: opts.epochs };
    },
  });
  if (!compiled) return EXIT.errors;
  const { program, source } = compiled;
  const experiment = pickExperiment(program, opts.name, file);
  const outDir = opts.out ?? join("runs", `${basename(file, extname(file))}-${experiment.name}`);
  // One run per folder (E640 while another lives), stale temporary files of killed runs removed; a run that
  // fails before writing anything leaves no folder behind (src/save/run-folder.ts).
  const folder = openRunFolder(outDir, `nnc experiment ${file}`);

  const onSigint = () => {
    io.err(
      `\ninterrupted: finished cells are kept in ${outDir}/results.json; ` +
        (queue
          ? "the queue's workers go on training the others; collect them with\n"
          : "run the rest with\n") +
        `  nnc experiment ${file} --name ${experiment.name} --out ${outDir} --resume` +
        `${opts.epochs !== undefined ? ` --epochs ${opts.epochs}` : ""}${opts.limit !== undefined ? ` --limit ${opts.limit}` : ""}` +
        `${queue ? ` --queue ${queue.display}` : ""}\n`,
    );
    process.exit(130);
  };
  process.once("SIGINT", onSigint);
  try {
    const run = await runExperiment(io, {
      program,
      specFile: file,
      specText: source.text,
      specSha256: source.sha256,
      name: experiment.name,
      outDir,
      jobs: opts.jobs ?? defaultJobs(),
      ...(queue ? { queue } : {}),
      backend: opts.backend,
      ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
      ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      ...(opts.resume ? { resume: true } : {}),
      ...(opts.force ? { force: true } : {}),
    });
    if (run.report.warning) io.err(`warning: ${run.report.warning}\n`);
    io.err(`\n${summaryLines(run.report.groups, run.results.validationName)}`);
    io.err(`wrote ${outDir}/: results.json, ${run.report.files.map((f) => basename(f)).join(", ")}\n`);
    return EXIT.ok;
  } finally {
    process.removeListener("SIGINT", onSigint);
    folder.abandon(); // releases the lock; removes the folder only if this run made it and it is still empty
  }
}

/** One line per group: final accuracy mean (and spread) over repeats, as the report's table. */
function summaryLines(
  groups: Awaited<ReturnType<typeof runExperiment>>["report"]["groups"],
  validationName: string,
): string {
  const width = Math.max(...groups.map((g) => g.group.length));
  return (
    groups
      .map((g) => {
        const acc = g.finalValAccuracy;
        const value = acc
          ? `${(acc.mean * 100).toFixed(2)}%${acc.n > 1 ? ` ± ${(acc.sd * 100).toFixed(2)}` : ""}`
          : "–";
        const diverged = g.diverged > 0 ? ` (${g.diverged} of ${g.cells.length} diverged)` : "";
        return `${g.group.padEnd(width)}  final ${validationName} accuracy ${value}${diverged}`;
      })
      .join("\n") + "\n"
  );
}
