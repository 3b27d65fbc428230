// Building the IR: Keras-style layer names. Each op has Keras' base name (dense, batch_normalization, ...);
// the first layer of a type takes it bare, later ones _1, _2, ... (the second dense is dense_1, as in Keras).
// Explicit `name=` wins, and generated names skip any name already taken.
import type { LayerOp } from "../ir/schema.ts";
import type { UnnamedLayer } from "./layers.ts";

/** Keras' default layer name and class name per op. */
export const KERAS_NAMES: Record<LayerOp, { base: string; className: string }> = {
  input: { base: "input_layer", className: "InputLayer" },
  flatten: { base: "flatten", className: "Flatten" },
  dense: { base: "dense", className: "Dense" },
  batchnorm: { base: "batch_normalization", className: "BatchNormalization" },
  activation: { base: "activation", className: "Activation" },
  dropout: { base: "dropout", className: "Dropout" },
  conv2d: { base: "conv2d", className: "Conv2D" },
  maxpool: { base: "max_pooling2d", className: "MaxPooling2D" },
  avgpool: { base: "average_pooling2d", className: "AveragePooling2D" },
  globalavgpool: { base: "global_average_pooling2d", className: "GlobalAveragePooling2D" },
  layernorm: { base: "layer_normalization", className: "LayerNormalization" },
};

/**
 * Fills in the names of layers built without `name=` (in place). Duplicate explicit names are left for the
 * checker (E213), which sees IR JSON as well as built IR.
 */
export function assignLayerNames(layers: UnnamedLayer[]): void {
  const taken = new Set<string>();
  for (const layer of layers) if (layer.name) taken.add(layer.name);
  const counters = new Map<string, number>();
  for (const layer of layers) {
    if (layer.name) continue;
    const base = KERAS_NAMES[layer.op].base;
    for (;;) {
      const n = counters.get(base) ?? 0;
      counters.set(base, n + 1);
      const name = n === 0 ? base : `${base}_${n}`;
      if (!taken.has(name)) {
        layer.name = name;
        taken.add(name);
        break;
      }
    }
  }
}
