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
          // Upsampled by nearest neighbour: wasm's Tile (broadcastTo) is a generic loop, 25 ms of a 235 ms
          // residual-network step at batch 64 for [64, 14, 14, 32].
          backward: (dy) => [
            tf.image.resizeNearestNeighbor(tf.reshape(tf.div(dy, h * w), [n, 1, 1, c]) as tf.Tensor4D, [
              h,
              w,
            ]),
          ],
        };
      },
  }),
};
