// Checking: what a model really outputs (probabilities or logits) and the loss that fits it. Resolves
// `loss auto`, sets `fromLogits` from the output activation, and warns (W402) where a declared value disagrees.
// Exported for back ends: when a file compares models with different outputs, each gets its own resolution.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { lossTypeFor, outputActivation } from "../ir/loss-rules.ts";
import type { Activation, Loss, Model } from "../ir/schema.ts";
import { formatShape } from "../util/shape.ts";
import type { Shape } from "./shapes.ts";

const CROSSENTROPY = ["sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy"];
const CATEGORICAL = ["sparse_categorical_crossentropy", "categorical_crossentropy"];

/**
 * Why the back end cannot compute `type` correctly on this output, or undefined when it can. Labels are class
 * indices, so every loss needs [batch, units] outputs; categorical losses compare a distribution over >= 2
 * classes (softmax, or linear logits); binary_crossentropy one probability (sigmoid) or logit (linear).
 */
function misfit(type: Loss["type"], activation: Activation, shape: Shape, model: string): string | undefined {
  if (shape.length !== 2) {
    // Image-shaped outputs mean the classification head is missing.
    return (
      `needs outputs of shape [batch, units] (labels are class indices), but model '${model}' outputs ` +
      `${formatShape(shape)}: add flatten (or globalavgpool) and a dense layer at the end of the model`
    );
  }
  const units = shape[1]!;
  if (CATEGORICAL.includes(type)) {
    if (activation !== "softmax" && activation !== "linear") {
      return `needs a softmax (or linear) output, but model '${model}' ends with ${activation}: end it with 'dense N softmax'`;
    }
    if (units < 2) {
      return `needs 2 or more output units (one per class), but model '${model}' has ${units}: use 'dense 1 sigmoid' with binary_crossentropy for two classes`;
    }
  }
  if (type === "binary_crossentropy") {
    if (activation !== "sigmoid" && activation !== "linear") {
      return `needs a sigmoid (or linear) output, but model '${model}' ends with ${activation}: end it with 'dense 1 sigmoid'`;
    }
    if (units !== 1) {
      return `needs 1 output unit (the probability of class 1), but model '${model}' has ${units}: use 'dense 1 sigmoid', or 'dense ${units} softmax' with sparse_categorical_crossentropy`;
    }
  }
  return undefined;
}

/**
 * The loss for one model: `auto` resolved, `fromLogits` what the outputs are (absent for mse). E306 where the
 * back end could not compute the loss correctly on the model's output (see `misfit`).
 */
export function resolveLoss(model: Model, declared: Loss): { loss: Loss; diagnostics: Diagnostic[] } {
  const activation = outputActivation(model);
  const outputShape = model.layers[model.layers.length - 1]?.outputShape;
  const type: Loss["type"] = lossTypeFor(model, declared);
  const loss: Loss = { type };
  const diagnostics: Diagnostic[] = [];
  const problem = outputShape && misfit(type, activation, outputShape, model.name);
  if (problem) {
    const span = declared.span ?? model.span;
    const detail = declared.type === "auto" ? `(picked by loss auto) ${problem}` : problem;
    diagnostics.push(diagnostic("E306", { loss: type, detail }, span ? { span } : {}));
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
  if (declared.span) loss.span = declared.span;
  return { loss, diagnostics };
}
