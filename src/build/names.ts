// Building the IR: Keras-style layer names. Each op has Keras' base name (dense, batch_normalization, ...);
// the first layer of a type takes it bare, later ones _1, _2, ... (the second dense is dense_1, as in Keras).
// Explicit `name=` wins, and generated names skip any name already taken.
import { KERAS_NAMES } from "../ir/keras-names.ts";
import type { Layer } from "../ir/schema.ts";

/**
 * Fills in the names of layers built without `name=` (in place). Duplicate explicit names are left for the
 * checker (E213), which sees IR JSON as well as built IR.
 */
export function assignLayerNames(layers: Layer[]): void {
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
