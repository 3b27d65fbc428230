// Checking: what a model really outputs (probabilities or logits) and the loss that fits it. Resolves
// `loss auto`, sets `fromLogits` from the output activation, and warns (W402) where a declared value disagrees.
// Exported for back ends: when a file compares models with different outputs, each gets its own resolution.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import type { Activation, Loss, Model } from "../ir/schema.ts";
import { formatShape } from "./shapes.ts";

/**
 * The activation that produces the model's outputs: the last layer's, looking back through layers that do not
 * change values (dropout, flatten, a linear activation). Normalization or pooling at the end makes it linear.
 */
export function outputActivation(model: Model): Activation {
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i]!;
    switch (layer.op) {
      case "dropout":
      case "flatten":
        continue;
      case "activation":
        if (layer.activation === "linear") continue;
        return layer.activation;
      case "dense":
      case "conv2d":
        return layer.activation;
      default:
        return "linear";
    }
  }
  return "linear";
}

const CROSSENTROPY = ["sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy"];

/** The loss for one model: `auto` resolved, `fromLogits` what the outputs are (absent for mse). */
export function resolveLoss(model: Model, declared: Loss): { loss: Loss; diagnostics: Diagnostic[] } {
  const activation = outputActivation(model);
  const type: Loss["type"] =
    declared.type !== "auto"
      ? declared.type
      : activation === "softmax"
        ? "sparse_categorical_crossentropy"
        : activation === "sigmoid"
          ? "binary_crossentropy"
          : "mse";
  const loss: Loss = { type };
  const diagnostics: Diagnostic[] = [];
  const outputShape = model.layers[model.layers.length - 1]?.outputShape;
  if (CROSSENTROPY.includes(type) && outputShape && outputShape.length !== 2) {
    // Classification losses compare one score per class; image-shaped outputs mean the head is missing.
    const detail =
      `needs outputs of shape [batch, classes], but model '${model.name}' outputs ${formatShape(outputShape)}: ` +
      "end the model with flatten (or globalavgpool) and a dense layer";
    const span = declared.span ?? model.span;
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
