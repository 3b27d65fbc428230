// Kernel of op `add`: the elementwise sum of its inputs (the merge of a residual connection); its gradient is
// dy for every input.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

const sum = (xs: tf.Tensor[]) => (xs.length === 2 ? tf.add(xs[0]!, xs[1]!) : tf.addN(xs));

export const add: KernelDefinition<LayerOf<"add">> = {
  op: "add",
  lower: () => ({
    forward: (xs) => sum(xs),
    stage: () => (xs) => ({ y: sum(xs), backward: (dy) => xs.map(() => dy) }),
  }),
};
