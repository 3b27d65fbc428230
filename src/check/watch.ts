// Checking: `watch` (issue 19) against the models it trains: the layer must be in each (E238, with a
// did-you-mean), and what it records must exist (E239): a side the node has (the input node has no input; a node
// of several inputs has no one input), a unit below its channel count, ascending percentiles, no watch twice.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { didYouMean } from "../diagnostics/suggest.ts";
import type { Model, Program, Span, Watch } from "../ir/schema.ts";
import { describeWatch } from "../ir/watch.ts";

/** At most this many layer names in E238's list. */
const LISTED = 12;

function againstModel(watch: Watch, model: Model, at: { span?: Span }, out: Diagnostic[]): void {
  const index = model.layers.findIndex((l) => l.name === watch.layer);
  if (index < 0) {
    const names = model.layers.map((l) => l.name);
    const known = names.length > LISTED ? `${names.slice(0, LISTED).join(", ")}, ...` : names.join(", ");
    // Models compared in one experiment name their layers in order (dense_2 may be another layer in each):
    // naming the watched layer the same in each (name=NAME) is what makes the series comparable.
    const help = didYouMean(watch.layer, names) ?? "name the layer in each model trained: name=NAME";
    out.push(diagnostic("E238", { layer: watch.layer, model: model.name, known }, { ...at, help }));
    return;
  }
  const node = model.layers[index]!;
  const fail = (detail: string, help?: string): void => {
    out.push(diagnostic("E239", { layer: watch.layer, detail }, { ...at, ...(help ? { help } : {}) }));
  };
  if (watch.side === "input" && node.inputs.length === 0) {
    return fail("the input layer has no input", `watch ${watch.layer} output`);
  }
  if (watch.side === "input" && node.inputs.length > 1) {
    return fail(
      `'${node.op}' has ${node.inputs.length} inputs, not one`,
      `watch its output, or the output of one of ${node.inputs.join(", ")}`,
    );
  }
  const source = watch.side === "input" ? model.layers.find((l) => l.name === node.inputs[0]) : node;
  const shape = source?.outputShape;
  const channels = shape ? (shape[shape.length - 1] as number | null) : undefined;
  if (watch.unit !== undefined && typeof channels === "number" && watch.unit >= channels) {
    fail(
      `unit ${watch.unit} of ${describeWatch({ ...watch, unit: undefined })} in model '${model.name}', which has ` +
        `${channels} unit${channels === 1 ? "" : "s"} (0..${channels - 1})`,
    );
  }
}

function checkWatches(
  watches: Watch[],
  models: Model[],
  fallback: Span | undefined,
  out: Diagnostic[],
): void {
  const seen = new Set<string>();
  for (const watch of watches) {
    const span = watch.span ?? fallback;
    const at = span ? { span } : {};
    const [low, mid, high] = watch.percentiles as [number, number, number];
    if (!(low <= mid && mid <= high)) {
      out.push(
        diagnostic(
          "E239",
          { layer: watch.layer, detail: `low, mid and high must ascend (they are ${low}, ${mid}, ${high})` },
          at,
        ),
      );
    }
    const key = describeWatch(watch);
    if (seen.has(key)) {
      out.push(diagnostic("E239", { layer: watch.layer, detail: `${key} is watched twice` }, at));
      continue;
    }
    seen.add(key);
    for (const model of models) againstModel(watch, model, at, out);
  }
}

export function checkWatch(program: Program, trained: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  const base = program.train.watch;
  if (base && trained) checkWatches(base, program.models, program.train.span, out);
  for (const experiment of program.experiments) {
    const own = experiment.train?.watch;
    if (!own) continue;
    const compared = program.models.filter((m) => experiment.compare.includes(m.name));
    checkWatches(own, compared, experiment.span, out);
  }
  return unique(out);
}

/** A base watch checked against the models of the train block and again for each experiment: each once. */
function unique(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const key = `${d.code} ${d.span?.join(":")} ${d.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}
