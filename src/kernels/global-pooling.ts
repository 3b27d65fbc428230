// What the global pooling kernels share: the mean or maximum over every position of [batch, ...spatial,
// channels] (two spatial axes for images, one for sequences), and its closed-form backward over the input
// viewed as an image [batch, H, W, channels] (a sequence's W is 1).
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

type GlobalOp = "globalavgpool" | "globalmaxpool" | "globalavgpool1d" | "globalmaxpool1d";

/** The input as [n, h, w, c]: a sequence [n, steps, c] is [n, steps, 1, c]. */
const imageShape = (x: tf.Tensor): [number, number, number, number] => {
  const [n, h, w, c] = x.shape.length === 3 ? [x.shape[0], x.shape[1], 1, x.shape[2]] : x.shape;
  return [n!, h!, w!, c!];
};

/**
 * [n, c] spread over every position of x's shape. By nearest-neighbour upsampling: wasm's Tile (broadcastTo) is
 * a generic loop, 25 ms of a 235 ms residual-network step at batch 64 for [64, 14, 14, 32].
 */
function spread(v: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const [n, h, w, c] = imageShape(x);
  const up = tf.image.resizeNearestNeighbor(tf.reshape(v, [n, 1, 1, c]) as tf.Tensor4D, [h, w]);
  return tf.reshape(up, x.shape);
}

/** The kernel of global pooling op `op`: `what` over `axes`. */
export function globalPoolKernel<O extends GlobalOp>(
  op: O,
  what: "mean" | "max",
  axes: number[],
): KernelDefinition<LayerOf<O>> {
  const reduce = (x: tf.Tensor) => (what === "mean" ? tf.mean(x, axes) : tf.max(x, axes));
  return {
    op: op as LayerOf<O>["op"],
    lower: () => ({
      forward: ([x]) => reduce(x!),
      stage:
        () =>
        ([x]) => {
          const y = reduce(x!);
          const [, h, w] = imageShape(x!);
          // The mean's gradient is dy / (H W) everywhere. The maximum's goes to every position equal to its
          // channel's maximum, ties included, as tf's gradient of max sends it: the mask 1 - step(max - x) is
          // float kernels only (wasm's Equal and its bool Cast are scalar loops).
          const backward = (dy: tf.Tensor) =>
            what === "mean"
              ? [spread(tf.div(dy, h * w), x!)]
              : [tf.mul(tf.sub(1, tf.step(tf.sub(spread(y, x!), x!))), spread(dy, x!))];
          return { y, backward };
        },
    }),
  };
}
