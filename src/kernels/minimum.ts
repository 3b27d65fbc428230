// Kernel of op `minimum`: the elementwise minimum of its inputs, folded pairwise from the first (as tfjs-layers
// Minimum); the gradient goes to the input that won each pair, ties to the earlier one as tf's does.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";
import { extremumGrads, foldInputs } from "./merge.ts";

export const minimum: KernelDefinition<LayerOf<"minimum">> = {
  op: "minimum",
  lower: () => ({
    forward: (xs) => foldInputs(xs, tf.minimum).at(-1)!,
    stage: () => (xs) => {
      const partials = foldInputs(xs, tf.minimum);
      return { y: partials.at(-1)!, backward: (dy) => extremumGrads(dy, xs, partials, false) };
    },
  }),
};
