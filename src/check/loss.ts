// Checking: what a model really outputs (probabilities or logits) and the loss that fits it. Resolves
// `loss auto`, sets `fromLogits` from the output activation, and warns where a declared value disagrees (W402)
// or where auto's pick is not the obvious one (W409: an output that is neither probabilities nor logits).
// Exported for back ends: when a file compares models with different outputs, each gets its own resolution.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { outputNode } from "../ir/graph.ts";
import { autoLossWarning, lossMisfit, lossTypeFor, outputActivation } from "../ir/loss-rules.ts";
import type { Loss, Model } from "../ir/schema.ts";

const CROSSENTROPY = ["sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy"];

/**
 * The loss for one model: `auto` resolved, `fromLogits` what the outputs are (absent for mse). E306 where the
 * back end could not compute the loss correctly on the model's output (`lossMisfit`), where the spec trains.
 */
export function resolveLoss(
  model: Model,
  declared: Loss,
  options: { trained?: boolean } = {},
): { loss: Loss; diagnostics: Diagnostic[] } {
  const activation = outputActivation(model);
  const outputShape = model.layers[model.layers.length - 1]?.outputShape;
  const type: Loss["type"] = lossTypeFor(model, declared);
  const loss: Loss = { type };
  const diagnostics: Diagnostic[] = [];
  const problem = outputShape && lossMisfit(type, activation, outputShape, model.name);
  // Not trained here: the loss stays as declared, and training reports the misfit if it comes to that.
  if (problem && options.trained === false) return { loss: declared, diagnostics };
  if (problem) {
    const span = declared.span ?? model.span;
    const detail = declared.type === "auto" ? `(picked by loss auto) ${problem}` : problem;
    diagnostics.push(diagnostic("E306", { loss: type, detail }, span ? { span } : {}));
  }
  // Only where the spec trains: a file of models alone (a feature extractor) ends where it likes.
  const why = options.trained !== false && declared.type === "auto" && !problem && outputShape?.length === 2;
  const warning = why ? autoLossWarning(activation, outputShape[1]) : undefined;
  if (warning) {
    // At the layer that decides it: the output (or the `loss auto` line, where one is written).
    const span = declared.span ?? outputNode(model)?.span ?? model.span;
    diagnostics.push(
      diagnostic("W409", { loss: type, model: model.name, why: warning }, span ? { span } : {}),
    );
  }
  if (CROSSENTROPY.includes(type)) {
    const probabilities = activation === "softmax" || activation === "sigmoid";
    loss.fromLogits = !probabilities;
    if (declared.fromLogits !== undefined && declared.fromLogits !== loss.fromLogits) {
      const actual = probabilities
        ? `model '${model.name}' outputs ${activation} probabilities, not logits`
        : `model '${model.name}' outputs logits (its output is ${activation}), not probabilities`;
      diagnostics.push(
        diagnostic(
          "W402",
          { declared: `from_logits=${declared.fromLogits}`, actual },
          declared.span ? { span: declared.span } : {},
        ),
      );
    }
  }
  if (declared.labelSmoothing !== undefined) {
    // Keras smooths the cross-entropies' targets (keras/src/losses/losses.py); mse has no such option.
    if (CROSSENTROPY.includes(type)) loss.labelSmoothing = declared.labelSmoothing;
    else diagnostics.push(diagnostic("E332", { loss: type }, declared.span ? { span: declared.span } : {}));
  }
  if (declared.span) loss.span = declared.span;
  return { loss, diagnostics };
}
