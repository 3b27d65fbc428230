// The checks on training settings that a command line can change (--epochs, --lr), run on the settings the run
// will use instead of the spec's: compiling checked the spec's values, so `--epochs 2` under a 2-epoch warm-up, or
// an --lr at which weight decay flips the weights, would otherwise train unchecked, and a spec's warning about its
// own epoch count would be shown for a run of another (E335, E336, E331, W413, W414).
import { checkSchedules, type CommandLineRun } from "../check/schedule.ts";
import { checkOptimizer } from "../check/training.ts";
import { promoteWarnings, sortDiagnostics, type Diagnostic, type SourceText } from "../diagnostics/index.ts";
import type { Program } from "../ir/schema.ts";
import { withTrainOverrides } from "../ir/train-overrides.ts";

const changes = (cli: CommandLineRun) => cli.epochs !== undefined || cli.lr !== undefined;

/** E331 of the train block's optimizer at --lr (or at the spec's lr without it). */
function decayAtLr(program: Program, cli: CommandLineRun): Diagnostic[] {
  if (cli.experiment !== undefined) return [];
  const optimizer = withTrainOverrides(program.train, { optimizer: { lr: cli.lr } }).optimizer;
  const found = checkOptimizer(optimizer, program.train.optimizer.span ?? program.train.span).filter(
    (d) => d.code === "E331",
  );
  return cli.lr === undefined
    ? found
    : found.map((d) => ({ ...d, message: `${d.message}, with --lr ${cli.lr} on the command line` }));
}

/** The diagnostics of the run `cli` starts (none when it changes nothing those checks see). */
export function commandLineDiagnostics(program: Program, cli: CommandLineRun): Diagnostic[] {
  if (!changes(cli)) return [];
  return [...checkSchedules(program, cli), ...decayAtLr(program, cli)];
}

/**
 * A compiled spec's diagnostics for the run `cli` starts: those the spec's own values gave for that run (its
 * schedule, early stopping and weight decay at the spec's epochs and lr) replaced by those of the command line's.
 */
export function withCommandLine(
  diags: readonly Diagnostic[],
  program: Program,
  cli: CommandLineRun,
  options: { strict: boolean; source: SourceText | undefined },
): Diagnostic[] {
  if (!changes(cli)) return [...diags];
  const scope = cli.experiment !== undefined ? { experiment: cli.experiment } : {};
  const specOwn = [
    ...checkSchedules(program, scope),
    ...(cli.lr !== undefined ? decayAtLr(program, scope) : []),
  ];
  const key = (d: Diagnostic) => `${d.code} ${d.span?.join(":")} ${d.message}`;
  const superseded = new Set(specOwn.map(key));
  const found = commandLineDiagnostics(program, cli);
  const promoted = options.strict ? promoteWarnings(found) : found;
  const located = options.source ? options.source.locate(promoted) : promoted;
  return sortDiagnostics([...diags.filter((d) => !superseded.has(key(d))), ...located]);
}
