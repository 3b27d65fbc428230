// IR semantics of the loss, shared by the checker (which validates and resolves it) and the back end (which
// lowers it per model): what a model's outputs are, and what `loss auto` means for them. Pure functions of
// the IR, written once so the two phases cannot disagree.
import { opOf } from "../ops/index.ts";
import { outputNode } from "./graph.ts";
import type { Activation, Loss, Model } from "./schema.ts";
import { formatShape } from "../util/shape.ts";

/**
 * The activation that produces the model's outputs: the output node's, looking back through nodes that do not
 * change values (dropout, flatten, a linear activation). Normalization, pooling or a merge at the end make it
 * linear.
 */
export function outputActivation(model: Model): Activation {
  const position = new Map(model.layers.map((l, i) => [l.name, i] as const));
  // Only ever towards earlier nodes: IR JSON may hold a cycle (the checker's E312), which must not loop here.
  for (let i = model.layers.length - 1; i >= 0;) {
    const node = model.layers[i]!;
    const op = opOf(node);
    if (!op.passesValues?.(node)) return op.activation?.(node) ?? "linear";
    const next = position.get(node.inputs[0] ?? "");
    if (next === undefined || next >= i) return "linear";
    i = next;
  }
  return "linear";
}

/**
 * What `loss auto` means for an output. Labels are always class indices (every data source gives them, and CSV
 * labels are checked to be), so auto picks a classifier's loss wherever the output can carry one: softmax ->
 * sparse categorical cross-entropy; one sigmoid unit -> binary cross-entropy; a linear output is logits: 2 or
 * more units -> sparse categorical cross-entropy from the logits, one unit -> binary cross-entropy from the
 * logit. Only outputs that are neither probabilities nor logits (relu, tanh, several sigmoids) get mse over the
 * one-hot labels, and the checker warns about those (W409, autoLossWarning).
 */
export function autoLoss(activation: Activation, units: number | null | undefined): Loss["type"] {
  if (activation === "softmax") return "sparse_categorical_crossentropy";
  const known = typeof units === "number";
  // Several sigmoid units are not one binary decision: mse over the one-hot labels is what fits them.
  if (activation === "sigmoid" && (!known || units === 1)) return "binary_crossentropy";
  // Without a [batch, units] output no loss fits (E306 says so); keep mse, what it was.
  if (activation === "linear" && known) {
    return units === 1 ? "binary_crossentropy" : "sparse_categorical_crossentropy";
  }
  return "mse";
}

/**
 * Why `loss auto`'s pick for this output is not the obvious one, or undefined when it is (softmax, one sigmoid
 * unit, linear logits). `classes`, where the data is known, also questions linear logits whose count is not the
 * data's classes. For W409.
 */
export function autoLossWarning(
  activation: Activation,
  units: number | null | undefined,
  classes?: { count: number; source: string },
): string | undefined {
  const type = autoLoss(activation, units);
  if (typeof units !== "number") return undefined;
  if (type === "mse") {
    const head = `'dense ${units} softmax' for one class per sample (or a linear 'dense ${units}' for logits)`;
    const what =
      activation === "sigmoid"
        ? `its ${units} sigmoid units are independent probabilities, not one distribution over classes`
        : `its output is ${activation}, neither probabilities nor logits`;
    return (
      `${what}, so it is compared with the one-hot labels by mean squared error; end the model with ${head}, ` +
      "or declare the loss"
    );
  }
  if (activation === "linear" && classes && units >= 2 && units !== classes.count) {
    return (
      `its ${units} linear outputs are read as the logits of ${units} classes (from_logits), but data ` +
      `'${classes.source}' has ${classes.count}: use 'dense ${classes.count}', or declare the loss`
    );
  }
  return undefined;
}

/** The loss type a model trains with: the declared one, or `auto` resolved for this model's output. */
export function lossTypeFor(model: Model, declared: Loss): Exclude<Loss["type"], "auto"> {
  if (declared.type !== "auto") return declared.type;
  const shape = outputNode(model)?.outputShape;
  return autoLoss(outputActivation(model), shape?.length === 2 ? shape[1] : undefined) as Exclude<
    Loss["type"],
    "auto"
  >;
}

const CATEGORICAL = ["sparse_categorical_crossentropy", "categorical_crossentropy"];

/**
 * Why the back end cannot compute `type` correctly on this output, or undefined when it can. Labels are class
 * indices, so every loss needs [batch, units] outputs; categorical losses compare a distribution over >= 2
 * classes (softmax, or linear logits); binary_crossentropy one probability (sigmoid) or logit (linear). The
 * checker reports it (E306) where a spec trains; training reports it for a model checked without a train block.
 */
export function lossMisfit(
  type: Loss["type"],
  activation: Activation,
  shape: readonly (number | null)[],
  model: string,
): string | undefined {
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
