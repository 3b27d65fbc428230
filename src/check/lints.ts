// Checking: lints, warnings about specs that are valid but very likely wrong (W401, W403–W405, W420,
// W423-W425): batchnorm after the output softmax (the notebook's bug), stacked activations, dropout feeding
// batchnorm, a PyTorch-style batchnorm momentum, a conv1d dilation over a one-tap window, a pooling stride
// that skips inputs, a reshape to the shape it has, an activation tfjs-layers cannot load; and a hint (W410)
// where a bias feeds batchnorm, which makes it redundant.
// Takes one IR model (a graph: "before" means "feeding"); gives warnings and hints.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { consumersOf, nodesByName } from "../ir/graph.ts";
import type { Activation, Layer, Model } from "../ir/schema.ts";
import { activationOf as activationModule } from "../ops/activations/index.ts";
import { opOf } from "../ops/index.ts";
import { argumentAt } from "../ops/op.ts";

/** Where a lint points: the layer (or one of its arguments), and the block uses it came from. */
const spanOf = (layer: Layer, field?: string) => argumentAt(layer, field);

/** The non-linear activation a node applies, if any. */
function activationOf(layer: Layer): Activation | undefined {
  const a = opOf(layer).activation?.(layer);
  return a === "linear" ? undefined : a;
}

/** `gaps`: indices of nodes whose input follows a statement the builder left out (no longer adjacent to it). */
export function lintModel(model: Model, gaps: ReadonlySet<number> = new Set()): Diagnostic[] {
  const out: Diagnostic[] = [];
  const nodes = nodesByName(model);
  const consumers = consumersOf(model);
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
    const noise = previous && opOf(previous).trainingNoise?.(previous);
    if (layer.op === "batchnorm" && previous?.op !== "dropout" && noise)
      out.push(diagnostic("W427", { op: previous!.op, effect: noise }, spanOf(previous!)));
    // The batchnorm's mean subtraction removes a constant per feature: a bias with no activation in between,
    // feeding nothing else, cannot change the output (nnc absorbs it; the hint is about the spec's clarity).
    if (
      layer.op === "batchnorm" &&
      previous &&
      opOf(previous).channelAffine?.(previous) && // a dense or convolution with no activation after it
      "useBias" in previous &&
      previous.useBias &&
      previous.outputShape !== undefined && // a layer with a shape error has enough said about it
      consumers.get(previous.name)?.length === 1
    ) {
      const help =
        "add `bias=false` to this layer (nnc absorbs the bias already: training is the same either way)";
      out.push(diagnostic("W410", { layer: previous.name }, { ...spanOf(previous), help }));
    }
    out.push(...(opOf(layer).lints?.(layer, previous?.outputShape ?? undefined) ?? []));
    const fn = activationOf(layer);
    if (fn && activationModule(fn).keras.tfjs === false) {
      out.push(diagnostic("W420", { layer: layer.name, activation: fn }, spanOf(layer, "activation")));
    }
    if (layer.op === "batchnorm" && layer.momentum < 0.5) {
      out.push(diagnostic("W405", { momentum: layer.momentum }, spanOf(layer, "momentum")));
    }
  });
  return out;
}
