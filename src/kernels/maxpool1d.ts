// Kernel of op `maxpool1d`: 1-D max pooling over [batch, steps, channels], as tfjs-layers' MaxPooling1D
// computes it: a Kx1 2-D max pooling over [batch, steps, 1, channels]. Its step is maxpool's (dy routed to each
// window's maximum) over that view.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";
import { maxPoolGrad, pool, type PoolWindow } from "./maxpool.ts";

/** A 1-D pooling node as the Kx1 window of a 2-D one. */
export const columnWindow = (node: LayerOf<"maxpool1d" | "avgpool1d">): PoolWindow => ({
  poolSize: [node.poolSize, 1],
  strides: [node.strides, 1],
  padding: node.padding,
});

/** [batch, steps, channels] as [batch, steps, 1, channels], and back. */
export const asColumn = (x: tf.Tensor) => tf.expandDims(x, 2) as tf.Tensor4D;
export const fromColumn = (x: tf.Tensor) => tf.squeeze(x, [2]);

export const maxpool1d: KernelDefinition<LayerOf<"maxpool1d">> = {
  op: "maxpool1d",
  lower: (node) => {
    const window = columnWindow(node);
    return {
      forward: ([x]) => fromColumn(pool(asColumn(x!), window)),
      stage:
        () =>
        ([x]) => {
          const column = asColumn(x!);
          const y = pool(column, window);
          return {
            y: fromColumn(y),
            backward: (dy) => [fromColumn(maxPoolGrad(asColumn(dy), column, y as tf.Tensor4D, window))],
          };
        },
    };
  },
};
