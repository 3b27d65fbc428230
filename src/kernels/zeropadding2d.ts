// Kernel of op `zeropadding2d`: zeros around the height and width; the gradient is dy with the margins cut off.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

export const zeropadding2d: KernelDefinition<LayerOf<"zeropadding2d">> = {
  op: "zeropadding2d",
  lower(node) {
    const [[t, b], [l, r]] = node.padding;
    const pad = (x: tf.Tensor) =>
      tf.pad(x, [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ]);
    return {
      forward: ([x]) => pad(x!),
      stage:
        () =>
        ([x]) => ({ y: pad(x!), backward: (dy) => [tf.slice(dy, [0, t, l, 0], x!.shape)] }),
    };
  },
};
