// IR semantics of the loss, shared by the checker (which validates and resolves it) and the back end (which
// lowers it per model): what a model's outputs are, and what `loss auto` means for them. Pure functions of
// the IR, written once so the two phases cannot disagree.
import type { Activation, Loss, Model } from "./schema.ts";

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

/** What `loss auto` means for an output: softmax -> cross-entropy, one sigmoid unit -> binary, else mse. */
export function autoLoss(activation: Activation, units: number | null | undefined): Loss["type"] {
  if (activation === "softmax") return "sparse_categorical_crossentropy";
  // Several sigmoid units are not one binary decision: mse over the one-hot labels is what fits them.
  if (activation === "sigmoid" && (units === undefined || units === null || units === 1)) {
    return "binary_crossentropy";
  }
  return "mse";
}

/** The loss type a model trains with: the declared one, or `auto` resolved for this model's output. */
export function lossTypeFor(model: Model, declared: Loss): Exclude<Loss["type"], "auto"> {
  if (declared.type !== "auto") return declared.type;
  const shape = model.layers.at(-1)?.outputShape;
  return autoLoss(outputActivation(model), shape?.length === 2 ? shape[1] : undefined) as Exclude<
    Loss["type"],
    "auto"
  >;
}
