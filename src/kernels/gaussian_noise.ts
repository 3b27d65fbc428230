// Kernel of op `gaussian_noise`: x + stddev * N(0, 1) in training (Keras GaussianNoise), the normals drawn from
// nnc's seeded stream for (seed, epoch, step, node) in element order; the identity at inference. Its gradient
// passes dy through unchanged.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { Random } from "../util/random.ts";
import { sizeOf } from "../util/shape.ts";
import type { KernelDefinition } from "./kernel.ts";

/** Rows [offset, offset + rows) of the whole batch's (`total` samples) noise, drawn as one thread draws it. */
function noise(x: tf.Tensor, stddev: number, rng: Random, offset: number, total: number): tf.Tensor {
  const perRow = sizeOf(x.shape.slice(1));
  const values = new Float32Array(total * perRow);
  for (let i = 0; i < values.length; i++) values[i] = stddev * rng.normal();
  const rows = x.shape[0]!;
  return tf.tensor(values.subarray(offset * perRow, (offset + rows) * perRow), x.shape, "float32");
}

const noStream = (node: LayerOf<"gaussian_noise">) =>
  new Error(`internal: gaussian_noise '${node.name}' in training without a noise stream`);

export const gaussianNoise: KernelDefinition<LayerOf<"gaussian_noise">> = {
  op: "gaussian_noise",
  random: true,
  lower: (node) => ({
    forward([x], o) {
      if (!o.training) return x!;
      if (!o.dropoutRng) throw noStream(node);
      return tf.add(x!, noise(x!, node.stddev, o.dropoutRng(node.name), 0, x!.shape[0]!));
    },
    stage:
      () =>
      ([x], ctx) => {
        if (!ctx.dropoutRng) throw noStream(node);
        const { offset, total } = ctx.shard;
        const y = tf.add(x!, noise(x!, node.stddev, ctx.dropoutRng(node.name), offset, total));
        return { y, backward: (dy) => [dy] };
      },
  }),
};
