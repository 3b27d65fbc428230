// Kernel of op `dropout`: inverted dropout (Keras) in training, kept values scaled by 1 / (1 - rate), the mask
// drawn from nnc's seeded stream for (seed, epoch, step, node); the identity at inference.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { Random } from "../util/random.ts";
import { sizeOf } from "../util/shape.ts";
import type { KernelDefinition } from "./kernel.ts";

/** The mask of inverted dropout: 0 with probability `rate`, else 1/(1-rate); drawn from `rng` in element order. */
export function dropoutMask(shape: number[], rate: number, rng: Random): tf.Tensor {
  return tf.tensor(dropoutMaskValues(sizeOf(shape), rate, rng), shape, "float32");
}

/** `size` mask values in row-major order: 0 with probability `rate`, else 1 / (1 - rate). */
export function dropoutMaskValues(size: number, rate: number, rng: Random): Float32Array {
  const keep = 1 / (1 - rate);
  const mask = new Float32Array(size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < rate ? 0 : keep;
  return mask;
}

const noStream = (node: LayerOf<"dropout">) =>
  new Error(`internal: dropout '${node.name}' in training without a mask stream`);

export const dropout: KernelDefinition<LayerOf<"dropout">> = {
  op: "dropout",
  random: true,
  lower: (node) => ({
    forward([x], o) {
      if (!o.training) return x!;
      if (!o.dropoutRng) throw noStream(node);
      return tf.mul(x!, dropoutMask(x!.shape, node.rate, o.dropoutRng(node.name)));
    },
    stage:
      () =>
      ([x], ctx) => {
        if (!ctx.dropoutRng) throw noStream(node);
        // The whole batch's mask, drawn as one thread would, and this share's rows of it.
        const { offset, rows, total } = ctx.shard;
        const perRow = sizeOf(x!.shape.slice(1));
        const values = dropoutMaskValues(total * perRow, node.rate, ctx.dropoutRng(node.name));
        const mask = tf.tensor(
          values.subarray(offset * perRow, (offset + rows) * perRow),
          x!.shape,
          "float32",
        );
        return { y: tf.mul(x!, mask), backward: (dy) => [tf.mul(dy, mask)] };
      },
  }),
};
