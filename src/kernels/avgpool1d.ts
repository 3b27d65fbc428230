// Kernel of op `avgpool1d`: 1-D average pooling over [batch, steps, channels], as tfjs-layers'
// AveragePooling1D computes it (a Kx1 2-D average pooling over [batch, steps, 1, channels]). Not in the
// compiled step, as avgpool is not (autograd trains it).
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";
import { asColumn, columnWindow, fromColumn } from "./maxpool1d.ts";

export const avgpool1d: KernelDefinition<LayerOf<"avgpool1d">> = {
  op: "avgpool1d",
  lower: (node) => {
    const w = columnWindow(node);
    return { forward: ([x]) => fromColumn(tf.avgPool(asColumn(x!), w.poolSize, w.strides, w.padding)) };
  },
};
