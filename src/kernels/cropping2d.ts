// Kernel of op `cropping2d`: the edges of the height and width cut off; the gradient is dy padded back with
// zeros (the cut values changed nothing).
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

export const cropping2d: KernelDefinition<LayerOf<"cropping2d">> = {
  op: "cropping2d",
  lower(node) {
    const [[t, b], [l, r]] = node.cropping;
    const crop = (x: tf.Tensor) => {
      const [n, h, w, c] = x.shape as number[];
      return tf.slice(x, [0, t, l, 0], [n!, h! - t - b, w! - l - r, c!]);
    };
    const margins: [number, number][] = [
      [0, 0],
      [t, b],
      [l, r],
      [0, 0],
    ];
    return {
      forward: ([x]) => crop(x!),
      stage:
        () =>
        ([x]) => ({ y: crop(x!), backward: (dy) => [tf.pad(dy, margins)] }),
    };
  },
};
