// Kernel of op `maximum`: the elementwise maximum of its inputs, folded pairwise from the first (as tfjs-layers
// Maximum); the gradient goes to the input that won each pair, ties to the earlier one as tf's does.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";
import { extremumGrads, foldInputs } from "./merge.ts";

export const maximum: KernelDefinition<LayerOf<"maximum">> = {
  op: "maximum",
  lower: () => ({
    forward: (xs) => foldInputs(xs, tf.maximum).at(-1)!,
    stage: () => (xs) => {
      const partials = foldInputs(xs, tf.maximum);
      return { y: partials.at(-1)!, backward: (dy) => extremumGrads(dy, xs, partials, true) };
    },
  }),
};
