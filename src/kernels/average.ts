// Kernel of op `average`: the elementwise mean of its inputs (tfjs-layers Average: the sum times 1 / n); the
// gradient of every input is dy / n.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";
import { foldInputs } from "./merge.ts";

const mean = (xs: tf.Tensor[]) => tf.mul(foldInputs(xs, tf.add).at(-1)!, 1 / xs.length);

export const average: KernelDefinition<LayerOf<"average">> = {
  op: "average",
  lower: () => ({
    forward: (xs) => mean(xs),
    stage: () => (xs) => ({
      y: mean(xs),
      backward: (dy) => {
        const share = tf.mul(dy, 1 / xs.length);
        return xs.map(() => share);
      },
    }),
  }),
};
