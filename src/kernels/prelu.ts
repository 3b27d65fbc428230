// Kernel of op `prelu`: y = x if x > 0 else alpha * x (tfjs' prelu, as tfjs-layers' PReLU calls it), alpha
// [per-sample shape, 1 along shared axes] starting at 0. Compiled step: dx = dy where x > 0 else alpha * dy;
// dalpha = the sum of dy * x where x <= 0 over the batch and the shared axes.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import { alphaShape } from "../ops/prelu.ts";
import type { KernelDefinition } from "./kernel.ts";

export const prelu: KernelDefinition<LayerOf<"prelu">> = {
  op: "prelu",
  lower(node, ctx) {
    const shape = alphaShape(node, ctx.inputShapes[0]!);
    const alpha = ctx.filled("alpha", shape, 0, true);
    // The axes alpha is broadcast along: the batch and the shared ones.
    const summed = [0, ...(node.sharedAxes ?? [])];
    return {
      forward: ([x]) => tf.prelu(x!, alpha),
      stage:
        () =>
        ([x]) => {
          const y = tf.prelu(x!, alpha);
          return {
            y,
            backward: (dy, grads, needDx) => {
              const positive = tf.greater(x!, 0);
              const negativePart = tf.where(positive, tf.zerosLike(x!), tf.mul(dy, x!));
              grads[`${node.name}/alpha`] = tf.reshape(tf.sum(negativePart, summed, true), shape);
              return needDx ? [tf.where(positive, dy, tf.mul(dy, alpha))] : undefined;
            },
          };
        },
    };
  },
};
