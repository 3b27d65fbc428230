// Checking: lints, warnings about specs that are valid but very likely wrong (W401, W403–W405): batchnorm
// after the output softmax (the notebook's bug), stacked activations, dropout feeding batchnorm, and a
// PyTorch-style batchnorm momentum. Takes one IR model (a graph: "before" means "feeding"); gives warnings.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { nodesByName } from "../ir/graph.ts";
import type { Activation, Layer, Model } from "../ir/schema.ts";
import { opOf } from "../ops/index.ts";
import { at } from "../ops/op.ts";

/** Where a lint points: the layer (or one of its arguments), and the block uses it came from. */
const spanOf = (layer: Layer, field?: string) => at(layer, (field && layer.argSpans?.[field]) || layer.span);

/** The non-linear activation a node applies, if any. */
function activationOf(layer: Layer): Activation | undefined {
  const a = opOf(layer).activation?.(layer);
  return a === "linear" ? undefined : a;
}

/** `gaps`: indices of nodes whose input follows a statement the builder left out (no longer adjacent to it). */
export function lintModel(model: Model, gaps: ReadonlySet<number> = new Set()): Diagnostic[] {
  const out: Diagnostic[] = [];
  const nodes = nodesByName(model);
  // Nodes downstream of a softmax: a batchnorm among them rescales probabilities.
  const afterSoftmax = new Set<string>();
  let warnedSoftmax = false;
  model.layers.forEach((layer, i) => {
    const producers = layer.inputs.map((n) => nodes.get(n)).filter((l): l is Layer => l !== undefined);
    // The one node feeding this one, when there is one and the builder dropped nothing in between.
    const previous = producers.length === 1 && !gaps.has(i) ? producers[0] : undefined;
    const downstream = producers.some((p) => afterSoftmax.has(p.name) || activationOf(p) === "softmax");
    if (downstream) afterSoftmax.add(layer.name);
    if (layer.op === "batchnorm" && downstream && !warnedSoftmax) {
      out.push(diagnostic("W401", { model: model.name }, spanOf(layer)));
      warnedSoftmax = true;
    }
    if (layer.op === "activation" && previous) {
      const first = activationOf(previous);
      const second = activationOf(layer);
      if (first && second) out.push(diagnostic("W403", { first, second }, spanOf(layer)));
    }
    if (layer.op === "batchnorm" && previous?.op === "dropout")
      out.push(diagnostic("W404", {}, spanOf(previous)));
    if (layer.op === "batchnorm" && layer.momentum < 0.5) {
      out.push(diagnostic("W405", { momentum: layer.momentum }, spanOf(layer, "momentum")));
    }
  });
  return out;
}
