// Checking: IR program -> checked IR program (outputShape and params recomputed, never trusted; the loss
// resolved) plus diagnostics: unique names (E208, E213, E217), the graph's structure (E300, E301, E303,
// E312-E314), shapes (E302, E304, E309-E311), experiment references (E305-E308), memory (E315), lints (W4xx).
import { diagnostic, hasErrors, promoteWarnings, type Diagnostic } from "../diagnostics/index.ts";
import { consumersOf, nodesByName } from "../ir/graph.ts";
import type { Experiment, Layer, Model, Program } from "../ir/schema.ts";
import { opOf } from "../ops/index.ts";
import { at, NO_PARAMS } from "../ops/op.ts";
import { checkAugment } from "./augment.ts";
import { checkExperiments } from "./experiments.ts";
import { checkSchedules } from "./schedule.ts";
import { checkWatch } from "./watch.ts";
import { lintModel } from "./lints.ts";
import { memoryDiagnostics } from "./memory.ts";
import { resolveLoss } from "./loss.ts";
import { checkTraining } from "./training.ts";
import { inferNode, type InferInput, type LayerResult, type Shape } from "./shapes.ts";

export interface CheckOptions {
  /** Promote warnings to errors (--strict). */
  strict?: boolean;
  /** Per model, indices of layers that follow a statement the builder left out (see BuildResult.gaps). */
  gaps?: ReadonlyMap<string, ReadonlySet<number>>;
  /** Bytes of memory a trained model must fit (E315); default this machine's (src/ir/training-memory.ts). */
  memory?: number;
  /**
   * The caller hands the program over (compile's freshly built IR, which nothing else holds): it is checked in
   * place instead of copied. The copy was 9 of the 16 ms a 1,000-layer program took to check, on every
   * keystroke in the language server.
   */
  owned?: boolean;
}

export interface CheckResult {
  /** The checked program; complete only when `diagnostics` has no errors. */
  program: Program;
  diagnostics: Diagnostic[];
}

/**
 * The graph's structure: one input node, first; every node's inputs are earlier nodes (E312), as many as its op
 * takes (E313); every node leads to the output (E314). The builder makes IR that holds all of this; IR JSON is
 * held to it here.
 */
function checkStructure(model: Model): Diagnostic[] {
  const first = model.layers[0];
  if (!first) return [diagnostic("E303", { model: model.name }, model.span ? { span: model.span } : {})];
  const out: Diagnostic[] = [];
  const where = (l: Layer) => at(l);
  if (first.op !== "input")
    out.push(diagnostic("E300", { model: model.name, first: first.op }, where(first)));
  const earlier = new Set<string>();
  const all = new Set(model.layers.map((l) => l.name));
  for (const node of model.layers) {
    const arity = opOf(node).arity;
    if (arity === "none" && node !== first) {
      out.push(diagnostic("E301", {}, where(node)));
      earlier.add(node.name);
      continue;
    }
    for (const input of node.inputs) {
      if (earlier.has(input) && input !== node.name) continue;
      const why =
        input === node.name
          ? "the node itself"
          : all.has(input)
            ? "a later node (list every node after its inputs)"
            : `no node of model '${model.name}'`;
      out.push(diagnostic("E312", { node: node.name, input, why }, where(node)));
    }
    const got = node.inputs.length;
    // A first node that is no input is E300 already: its missing input is the same mistake.
    if (node === first && got === 0) {
      earlier.add(node.name);
      continue;
    }
    if (arity === "none" ? got !== 0 : arity === "one" ? got !== 1 : got < 2) {
      const expected = arity === "none" ? "no inputs" : arity === "one" ? "one input" : "two or more inputs";
      out.push(diagnostic("E313", { node: node.name, op: node.op, expected, got }, where(node)));
    }
    earlier.add(node.name);
  }
  if (out.length > 0) return out;
  const output = model.layers[model.layers.length - 1]!;
  const used = consumersOf(model);
  for (const node of model.layers) {
    if (node !== output && used.get(node.name)!.length === 0)
      out.push(diagnostic("E314", { node: node.name, output: output.name }, where(node)));
  }
  return out;
}

/**
 * Fills outputShape and params of a model's nodes (in place); returns structural and shape errors. `gaps`:
 * indices of nodes whose input follows a statement the builder left out.
 */
function checkModel(model: Model, gaps: ReadonlySet<number> = new Set()): Diagnostic[] {
  // A first statement the builder left out (e.g. `input 0x28`, already E206) was probably the input.
  const structure = checkStructure(model).filter((d) => !(d.code === "E300" && gaps.has(0)));
  if (structure.length > 0) return structure;
  const out: Diagnostic[] = [];
  // After a bad node (or a statement the builder left out) a shape is unknown until a node fixes it again, as
  // `input` or `dense` do: independent errors further on are still found, follow-on ones are not.
  const shapes = new Map<string, Shape | undefined>();
  const nodes = nodesByName(model);
  model.layers.forEach((node, i) => {
    const inputs = node.inputs.map((name) => ({ shape: shapes.get(name), from: nodes.get(name)! }));
    const known = !gaps.has(i) && inputs.every((x) => x.shape !== undefined);
    const result = known ? inferNode(node, inputs as InferInput[]) : recoverShape(node);
    if (result === undefined) {
      shapes.set(node.name, undefined);
    } else if ("error" in result) {
      out.push(result.error);
      shapes.set(node.name, undefined);
    } else {
      node.outputShape = result.shape;
      node.params = result.params;
      shapes.set(node.name, result.shape);
    }
  });
  return out;
}

/** A node's output when an input shape is unknown: known only for ops whose output ignores the input. */
function recoverShape(node: Layer): LayerResult | undefined {
  const shape = opOf(node).outputWithoutInput?.(node);
  return shape && { shape, params: NO_PARAMS };
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
function resolveFor(
  models: Model[],
  loss: Program["train"]["loss"],
  diags: Diagnostic[],
  trained: boolean,
  gaps?: CheckOptions["gaps"],
) {
  const seen = new Set<string>();
  const resolved = models.map((model) => {
    // A model with layers the builder left out (already reported) has outputs nobody wrote: judging the
    // loss against them would blame the loss for an unknown op (E306 after E200).
    const complete = !(gaps?.get(model.name)?.size ?? 0);
    const r = resolveLoss(model, loss, { trained: trained && complete });
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
 * Checks a program. Does not modify its argument (unless `owned`). `train.loss` comes out resolved (auto -> a
 * type, fromLogits what the outputs are) when it means the same for every model, else as declared (see
 * resolveFor).
 */
export function checkProgram(input: Program, options: CheckOptions = {}): CheckResult {
  const program = options.owned ? input : structuredClone(input);
  const diags: Diagnostic[] = duplicateNames(program);
  for (const model of program.models) {
    for (const layer of model.layers) {
      delete layer.outputShape;
      delete layer.params;
    }
    const gaps = options.gaps?.get(model.name);
    // With two nodes of one name (E213) the graph's edges are ambiguous: nothing more can be said of it.
    if (new Set(model.layers.map((l) => l.name)).size < model.layers.length) continue;
    const errors = checkModel(model, gaps);
    diags.push(...errors);
    diags.push(...lintModel(model, gaps));
  }
  // A file without a train block or experiments only defines models (a feature extractor, a model to load
  // weights into): a loss that does not fit them is not yet a mistake. Training says so (E306 from fit).
  const trained = program.train.span !== undefined || program.experiments.length > 0;
  program.train.loss = resolveFor(program.models, program.train.loss, diags, trained, options.gaps);
  diags.push(...checkExperiments(program));
  diags.push(...checkTraining(program));
  diags.push(...checkAugment(program, trained));
  diags.push(...checkSchedules(program));
  diags.push(...checkWatch(program, trained));
  for (const experiment of program.experiments) {
    const loss = experiment.train?.loss;
    if (!loss) continue;
    const compared = program.models.filter((m) => experiment.compare.includes(m.name));
    (experiment.train as NonNullable<Experiment["train"]>).loss = resolveFor(
      compared,
      loss,
      diags,
      true,
      options.gaps,
    );
  }
  // Memory only of a program otherwise clean: the estimate needs every shape (and a broken model's is moot).
  if (!hasErrors(diags)) diags.push(...memoryDiagnostics(program, trained, options.memory));
  return { program, diagnostics: options.strict ? promoteWarnings(diags) : diags };
}
