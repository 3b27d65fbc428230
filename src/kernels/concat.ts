// Kernel of op `concat`: its inputs joined along one axis (never the batch axis); its gradient is dy split
// along that axis into the inputs' sizes.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

export const concat: KernelDefinition<LayerOf<"concat">> = {
  op: "concat",
  lower(node, ctx) {
    const rank = ctx.inputShapes[0]!.length + 1; // with the batch axis
    const axis = node.axis < 0 ? rank + node.axis : node.axis;
    const sizes = ctx.inputShapes.map((s) => s[axis - 1]!);
    return {
      forward: (xs) => tf.concat(xs, axis),
      stage: () => (xs) => ({ y: tf.concat(xs, axis), backward: (dy) => tf.split(dy, sizes, axis) }),
    };
  },
};
