// Kernel of op `flatten`: each sample reshaped to a vector; the gradient reshaped back.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

const flat = (x: tf.Tensor) => tf.reshape(x, [x.shape[0]!, -1]);

export const flatten: KernelDefinition<LayerOf<"flatten">> = {
  op: "flatten",
  lower: () => ({
    forward: ([x]) => flat(x!),
    stage:
      () =>
      ([x]) => ({ y: flat(x!), backward: (dy) => [tf.reshape(dy, x!.shape)] }),
  }),
};
