// Kernel of op `subtract`: the first input minus the second; the gradient is dy for the first, -dy for the
// second.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

export const subtract: KernelDefinition<LayerOf<"subtract">> = {
  op: "subtract",
  lower: () => ({
    forward: ([a, b]) => tf.sub(a!, b!),
    stage: () => (xs) => ({ y: tf.sub(xs[0]!, xs[1]!), backward: (dy) => [dy, tf.neg(dy)] }),
  }),
};
