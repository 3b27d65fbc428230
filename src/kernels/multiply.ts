// Kernel of op `multiply`: the elementwise product of its inputs, folded from the first (as tfjs-layers
// Multiply); the gradient of input i is dy times the product of the others.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";
import { foldInputs } from "./merge.ts";

const product = (xs: tf.Tensor[]) => foldInputs(xs, tf.mul).at(-1)!;

/** The product of every input but `i` (in fold order, so two inputs give exactly the other one). */
const others = (xs: tf.Tensor[], i: number) => product(xs.filter((_, j) => j !== i));

export const multiply: KernelDefinition<LayerOf<"multiply">> = {
  op: "multiply",
  lower: () => ({
    forward: (xs) => product(xs),
    stage: () => (xs) => ({
      y: product(xs),
      backward: (dy) => xs.map((_, i) => tf.mul(dy, others(xs, i))),
    }),
  }),
};
