// Kernel of op `reshape`: each sample's values under the target shape (tf resolves its -1); the gradient is dy
// reshaped back to the input's shape.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

export const reshape: KernelDefinition<LayerOf<"reshape">> = {
  op: "reshape",
  lower: (node) => {
    const to = (x: tf.Tensor) => tf.reshape(x, [x.shape[0]!, ...node.targetShape]);
    return {
      forward: ([x]) => to(x!),
      stage:
        () =>
        ([x]) => ({ y: to(x!), backward: (dy) => [tf.reshape(dy, x!.shape)] }),
    };
  },
};
