// Kernel of op `globalavgpool`: the mean over height and width, NHWC -> NC; its gradient spreads dy / (H W)
// over every position.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

export const globalavgpool: KernelDefinition<LayerOf<"globalavgpool">> = {
  op: "globalavgpool",
  lower: () => ({
    forward: ([x]) => tf.mean(x!, [1, 2]),
    stage:
      () =>
      ([x]) => {
        const [n, h, w, c] = x!.shape as [number, number, number, number];
        return {
          y: tf.mean(x!, [1, 2]),
          backward: (dy) => [tf.broadcastTo(tf.reshape(tf.div(dy, h * w), [n, 1, 1, c]), [n, h, w, c])],
        };
      },
  }),
};
