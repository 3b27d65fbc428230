// Checking: every model a program trains against this machine's memory (E315), at the settings it trains with:
// the train block's, and each experiment's batches and optimizers (so an experiment with one cell too large is
// refused before any cell runs). Estimated on the leanest backend (src/ir/training-memory.ts): what fails here
// cannot train on this machine at all; the wasm heap's ceiling and the memory free now are training's to check,
// once the backend is chosen (E636, E637).
import type { Diagnostic } from "../diagnostics/index.ts";
import { defaultOptimizer } from "../ir/optimizer-defaults.ts";
import { OPTIMIZERS, type Model, type Optimizer, type Program } from "../ir/schema.ts";
import {
  describeTraining,
  estimateTrainingMemory,
  machineMemory,
  tooLargeForMachine,
  type MemoryEstimate,
} from "../ir/training-memory.ts";
import { withTrainOverrides } from "../ir/train-overrides.ts";

/** Every node has its shape and parameters: the model checked without errors. */
const isChecked = (model: Model) => model.layers.every((l) => l.outputShape && l.params);

/** The (batch, optimizer) pairs an experiment trains its models at: its vary lists', else its base settings'. */
function experimentSettings(
  program: Program,
  experiment: Program["experiments"][number],
): { batch: number; optimizer: Optimizer }[] {
  const base = withTrainOverrides(program.train, experiment.train);
  const varied = (key: string) => experiment.vary.find((v) => v.key === key)?.values;
  const batches = (varied("batch") ?? [base.batch]).filter(
    (b): b is number => typeof b === "number" && Number.isInteger(b) && b >= 1,
  );
  const optimizers = (varied("optimizer") ?? [base.optimizer]).flatMap((o) =>
    typeof o === "object"
      ? [o as Optimizer]
      : (OPTIMIZERS as readonly unknown[]).includes(o)
        ? [defaultOptimizer(o as Optimizer["type"])]
        : [],
  );
  return batches.flatMap((batch) => optimizers.map((optimizer) => ({ batch, optimizer })));
}

/**
 * E315 for each model (and experiment) whose training needs more memory than `total` bytes (default: this
 * machine's). Models with errors are skipped (their shapes are unknown). `trained`: the file trains (a train
 * block or experiments); a file that only defines models is checked when `nnc train` runs it.
 */
export function memoryDiagnostics(
  program: Program,
  trained: boolean,
  total = machineMemory().total,
): Diagnostic[] {
  if (!trained) return [];
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  const check = (
    model: Model,
    estimate: MemoryEstimate,
    what: string,
    span: [number, number] | undefined,
  ) => {
    const key = `${model.name} ${estimate.batch} ${estimate.optimizer}`;
    if (estimate.total <= total || reported.has(key)) return;
    reported.add(key);
    out.push(tooLargeForMachine(estimate, what, total, span));
  };
  const models = program.models.filter(isChecked);
  for (const model of models) {
    const e = estimateTrainingMemory(model, program.train);
    check(model, e, describeTraining(e), e.largest?.span);
  }
  for (const experiment of program.experiments) {
    const settings = experimentSettings(program, experiment);
    for (const model of models.filter((m) => experiment.compare.includes(m.name))) {
      // The cell that needs the most: one too large refuses the experiment before any cell runs.
      const worst = settings
        .map((s) => estimateTrainingMemory(model, s))
        .reduce<MemoryEstimate | undefined>((a, b) => (a && a.total >= b.total ? a : b), undefined);
      if (!worst) continue;
      const what = `experiment '${experiment.name}' trains ${describeTraining(worst)}, which`;
      check(model, worst, what, experiment.span);
    }
  }
  return out;
}
