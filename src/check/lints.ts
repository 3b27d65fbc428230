// Checking: lints, warnings about specs that are valid but very likely wrong (W401, W403–W405): batchnorm
// after the output softmax (the notebook's bug), stacked activations, dropout feeding batchnorm, and a
// PyTorch-style batchnorm momentum. Takes one IR model; gives warnings.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import type { Activation, Layer, Model } from "../ir/schema.ts";

const spanOf = (layer: Layer, field?: string) => {
  const span = (field && layer.argSpans?.[field]) || layer.span;
  return span ? { span } : {};
};

/** The non-linear activation a layer applies, if any. */
function activationOf(layer: Layer): Activation | undefined {
  const a =
    layer.op === "activation" || layer.op === "dense" || layer.op === "conv2d" ? layer.activation : undefined;
  return a === "linear" ? undefined : a;
}

/** `gaps`: indices of layers that follow a statement the builder left out (no longer adjacent to the one before). */
export function lintModel(model: Model, gaps: ReadonlySet<number> = new Set()): Diagnostic[] {
  const out: Diagnostic[] = [];
  let softmaxSeen = false;
  let warnedSoftmax = false;
  model.layers.forEach((layer, i) => {
    const previous = gaps.has(i) ? undefined : model.layers[i - 1];
    if (layer.op === "batchnorm" && softmaxSeen && !warnedSoftmax) {
      out.push(diagnostic("W401", { model: model.name }, spanOf(layer)));
      warnedSoftmax = true;
    }
    if (activationOf(layer) === "softmax") softmaxSeen = true;
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
