// Kernel of op `avgpool`: 2-D average pooling over NHWC. Not in the compiled step (autograd trains it).
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

export const avgpool: KernelDefinition<LayerOf<"avgpool">> = {
  op: "avgpool",
  lower: (node) => ({
    forward: ([x]) => tf.avgPool(x as tf.Tensor4D, node.poolSize, node.strides, node.padding),
  }),
};
