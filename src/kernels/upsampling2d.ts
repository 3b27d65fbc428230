// Kernel of op `upsampling2d`: nearest-neighbour upsampling by whole factors (tfjs-layers' UpSampling2D runs
// resizeNearestNeighbor to S times the size: output pixel i reads input floor(i / S), each pixel repeated in an
// SxS block); the gradient of an input pixel is the sum of dy over its block. The autograd path repeats by a
// broadcast instead, whose gradient tf computes right on every backend: the cpu backend's
// ResizeNearestNeighborGrad is wrong for batches of more than one sample (measured: tfjs-core 4.22, off by ~10
// on random [10, 3, 4, 3] inputs where wasm's is exact).
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

type Node = LayerOf<"upsampling2d">;

const upsample = (x: tf.Tensor, [sh, sw]: [number, number]) => {
  const [, h, w] = x.shape as number[];
  return tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [h! * sh, w! * sw]);
};

/**
 * The same values as `upsample`: x [n, h, w, c] as [n, h, 1, w, 1, c], broadcast over each SxS block by a
 * product with ones (broadcastTo is a tile, which tf cannot differentiate at rank 6).
 */
const repeat = (x: tf.Tensor, [sh, sw]: [number, number]) => {
  const [n, h, w, c] = x.shape as number[];
  const blocks = tf.mul(tf.reshape(x, [n!, h!, 1, w!, 1, c!]), tf.ones([1, 1, sh, 1, sw, 1]));
  return tf.reshape(blocks, [n!, h! * sh, w! * sw, c!]);
};

/** dx: dy [n, h*sh, w*sw, c] viewed as [n, h, sh, w, sw, c], summed over each block. */
function blockSums(dy: tf.Tensor, x: tf.Tensor, [sh, sw]: [number, number]): tf.Tensor {
  const [n, h, w, c] = x.shape as number[];
  if (sh === 1 && sw === 1) return dy;
  return tf.sum(tf.reshape(dy, [n!, h!, sh, w!, sw, c!]), [2, 4]);
}

export const upsampling2d: KernelDefinition<Node> = {
  op: "upsampling2d",
  lower: (node) => ({
    // Inference (predict, the population statistics) takes the resize, one fast kernel.
    forward: ([x], o) => (o.training ? repeat(x!, node.size) : upsample(x!, node.size)),
    stage:
      () =>
      ([x]) => ({ y: upsample(x!, node.size), backward: (dy) => [blockSums(dy, x!, node.size)] }),
  }),
};
