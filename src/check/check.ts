// Checking: IR program -> checked IR program (outputShape and params recomputed, never trusted; the loss
// resolved) plus diagnostics: unique names (E208, E213, E217), model structure (E300–E304, E309), experiment
// references (E305–E308), lints (W4xx).
import { diagnostic, promoteWarnings, type Diagnostic } from "../diagnostics/index.ts";
import type { Experiment, Model, Program } from "../ir/schema.ts";
import { checkExperiments } from "./experiments.ts";
import { lintModel } from "./lints.ts";
import { resolveLoss } from "./loss.ts";
import { inferLayer, type Shape } from "./shapes.ts";

export interface CheckOptions {
  /** Promote warnings to errors (--strict). */
  strict?: boolean;
  /** Per model, indices of layers that follow a statement the builder left out (see BuildResult.gaps). */
  gaps?: ReadonlyMap<string, ReadonlySet<number>>;
}

export interface CheckResult {
  /** The checked program; complete only when `diagnostics` has no errors. */
  program: Program;
  diagnostics: Diagnostic[];
}

/** Fills outputShape and params of a model's layers (in place); returns structural errors. */
function checkModel(model: Model, gaps: ReadonlySet<number> = new Set()): Diagnostic[] {
  const at = model.span ? { span: model.span } : {};
  const first = model.layers[0];
  if (!first) return [diagnostic("E303", { model: model.name }, at)];
  const out: Diagnostic[] = [];
  // A first statement the builder left out (e.g. `input 0x28`, already E206) was probably the input.
  if (first.op !== "input" && !gaps.has(0)) {
    out.push(
      diagnostic("E300", { model: model.name, first: first.op }, first.span ? { span: first.span } : at),
    );
  }
  for (const layer of model.layers.slice(1)) {
    if (layer.op === "input") out.push(diagnostic("E301", {}, layer.span ? { span: layer.span } : {}));
  }
  if (out.length > 0) return out;
  // After a bad layer (or a statement the builder left out) the shape is unknown until a layer fixes it
  // again, as `input` or `dense` do: independent errors further on are still found, follow-on ones are not.
  let shape: Shape | undefined = [];
  for (let i = 0; i < model.layers.length; i++) {
    const layer = model.layers[i]!;
    if (gaps.has(i)) shape = undefined;
    const result: ReturnType<typeof recoverShape> =
      shape === undefined ? recoverShape(layer) : inferLayer(layer, shape, model.layers[i - 1]);
    if (result === undefined) {
      shape = undefined;
    } else if ("error" in result) {
      out.push(result.error);
      shape = undefined;
    } else {
      layer.outputShape = result.shape;
      layer.params = result.params;
      shape = result.shape;
    }
  }
  return out;
}

/** A layer's output when its input shape is unknown: known only for layers whose output ignores the input. */
function recoverShape(layer: Model["layers"][number]): ReturnType<typeof inferLayer> | undefined {
  switch (layer.op) {
    case "input":
      return inferLayer(layer, []);
    case "dense":
      return { shape: [null, layer.units], params: { trainable: 0, nonTrainable: 0 } };
    default:
      return undefined;
  }
}

/**
 * Names that must be unique: layers within a model (E213: weights and saved files are named after them),
 * models (E208) and experiments (E217) within a file. Here rather than in the builder, so IR JSON is held to it
 * too; the builder drops a duplicate model or experiment block, so .nn input is never reported twice.
 */
function duplicateNames(program: Program): Diagnostic[] {
  const out: Diagnostic[] = [];
  const twice = <T extends { name: string }>(items: readonly T[], report: (item: T) => Diagnostic) => {
    const seen = new Set<string>();
    for (const item of items) {
      if (seen.has(item.name)) out.push(report(item));
      seen.add(item.name);
    }
  };
  const at = (span: [number, number] | undefined) => (span ? { span } : {});
  for (const model of program.models) {
    twice(model.layers, (l) => diagnostic("E213", { name: l.name }, at(l.argSpans?.["name"] ?? l.span)));
  }
  twice(program.models, (m) => diagnostic("E208", { name: m.name }, at(m.span)));
  twice(program.experiments, (e) => diagnostic("E217", { name: e.name }, at(e.span)));
  return out;
}

/**
 * Checks the loss of a train (or experiment override) against every model it trains, and resolves it in the IR
 * where that means the same for all of them. Where it does not (`loss auto` over a softmax model and a sigmoid
 * one), the IR keeps `auto` and the back end resolves it per model by the same rule (src/ir/loss-rules.ts).
 */
function resolveFor(models: Model[], loss: Program["train"]["loss"], diags: Diagnostic[]) {
  const seen = new Set<string>();
  const resolved = models.map((model) => {
    const r = resolveLoss(model, loss);
    for (const d of r.diagnostics) {
      if (!seen.has(d.message)) diags.push(d);
      seen.add(d.message);
    }
    return r.loss;
  });
  const [first] = resolved;
  if (!first) return loss;
  const same = resolved.every((r) => r.type === first.type && r.fromLogits === first.fromLogits);
  return same ? first : loss;
}

/**
 * Checks a program. Does not modify its argument. `train.loss` comes out resolved (auto -> a type, fromLogits
 * what the outputs are) when it means the same for every model, else as declared (see resolveFor).
 */
export function checkProgram(input: Program, options: CheckOptions = {}): CheckResult {
  const program = structuredClone(input);
  const diags: Diagnostic[] = duplicateNames(program);
  for (const model of program.models) {
    for (const layer of model.layers) {
      delete layer.outputShape;
      delete layer.params;
    }
    const gaps = options.gaps?.get(model.name);
    const errors = checkModel(model, gaps);
    diags.push(...errors);
    diags.push(...lintModel(model, gaps));
  }
  program.train.loss = resolveFor(program.models, program.train.loss, diags);
  diags.push(...checkExperiments(program));
  for (const experiment of program.experiments) {
    const loss = experiment.train?.loss;
    if (!loss) continue;
    const compared = program.models.filter((m) => experiment.compare.includes(m.name));
    (experiment.train as NonNullable<Experiment["train"]>).loss = resolveFor(compared, loss, diags);
  }
  return { program, diagnostics: options.strict ? promoteWarnings(diags) : diags };
}
