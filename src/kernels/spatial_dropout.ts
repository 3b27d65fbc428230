// Kernel of op `spatial_dropout`: inverted dropout of whole channels in training (Keras SpatialDropout1D/2D): a
// mask [batch, 1, (1,) channels] of 0 (probability `rate`) or 1 / (1 - rate), drawn from nnc's seeded stream for
// (seed, epoch, step, node) in (sample, channel) order and broadcast over the positions; the identity at inference.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { Random } from "../util/random.ts";
import { dropoutMaskValues } from "./dropout.ts";
import type { KernelDefinition } from "./kernel.ts";

/** The mask's shape for input `shape`: one value per sample and channel, 1 along the positions. */
const maskShape = (shape: number[]): number[] => [
  shape[0]!,
  ...shape.slice(1, -1).map(() => 1),
  shape.at(-1)!,
];

/** Rows [offset, offset + rows) of the whole batch's (`total` samples) channel mask, drawn as one thread draws it. */
function channelMask(x: tf.Tensor, rate: number, rng: Random, offset: number, total: number): tf.Tensor {
  const channels = x.shape.at(-1)!;
  const values = dropoutMaskValues(total * channels, rate, rng);
  const rows = x.shape[0]!;
  return tf.tensor(
    values.subarray(offset * channels, (offset + rows) * channels),
    maskShape(x.shape),
    "float32",
  );
}

const noStream = (node: LayerOf<"spatial_dropout">) =>
  new Error(`internal: spatial_dropout '${node.name}' in training without a mask stream`);

export const spatialDropout: KernelDefinition<LayerOf<"spatial_dropout">> = {
  op: "spatial_dropout",
  random: true,
  lower: (node) => ({
    forward([x], o) {
      if (!o.training) return x!;
      if (!o.dropoutRng) throw noStream(node);
      return tf.mul(x!, channelMask(x!, node.rate, o.dropoutRng(node.name), 0, x!.shape[0]!));
    },
    stage:
      () =>
      ([x], ctx) => {
        if (!ctx.dropoutRng) throw noStream(node);
        const { offset, total } = ctx.shard;
        const mask = channelMask(x!, node.rate, ctx.dropoutRng(node.name), offset, total);
        return { y: tf.mul(x!, mask), backward: (dy) => [tf.mul(dy, mask)] };
      },
  }),
};
