// Kernel of op `maxpool`: 2-D max pooling over NHWC; its step routes dy to each window's maximum.
import * as tf from "@tensorflow/tfjs-core";
import type { LayerOf } from "../ir/schema.ts";
import { simdKernels } from "../runtime/simd-kernels.ts";
import { wasmHeap } from "../train/tensor-memory.ts";
import type { KernelDefinition } from "./kernel.ts";

type MaxPoolNode = LayerOf<"maxpool">;

/** A 2-D pooling window: maxpool's node, or maxpool1d's as a Kx1 window over [batch, steps, 1, channels]. */
export type PoolWindow = Pick<MaxPoolNode, "poolSize" | "strides" | "padding">;

export const pool = (x: tf.Tensor, node: PoolWindow) =>
  tf.maxPool(x as tf.Tensor4D, node.poolSize, node.strides, node.padding);

export const maxpool: KernelDefinition<MaxPoolNode> = {
  op: "maxpool",
  lower: (node) => ({
    forward: ([x]) => pool(x!, node),
    stage:
      () =>
      ([x]) => {
        const y = pool(x!, node);
        return { y, backward: (dy) => [maxPoolGrad(dy as tf.Tensor4D, x as tf.Tensor4D, y, node)] };
      },
  }),
};

/**
 * dx of max pooling. Windows that tile the input (pool = stride, sizes divisible): dy goes to where x equals its
 * window's maximum, on wasm in one SIMD pass (simd-kernels.wat), elsewhere by a mask of where x equals its
 * upsampled maximum. Differs from tfjs only on exact ties inside a window (tfjs routes to the first maximum; here
 * every tied position gets it); after relu such ties are zeros whose gradient relu's backward drops anyway.
 * Other windows take the backend's MaxPoolGrad (on wasm nnc's own: runtime/wasm-kernels.ts).
 */
export function maxPoolGrad(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, node: PoolWindow): tf.Tensor {
  const [ph, pw] = node.poolSize;
  const [, h, wd, c] = x.shape;
  const tiles = node.strides[0] === ph && node.strides[1] === pw && h % ph === 0 && wd % pw === 0;
  if (!tiles) {
    return tf.engine().runKernel(tf.MaxPoolGrad, { dy, input: x, output: y }, {
      filterSize: node.poolSize,
      strides: node.strides,
      pad: node.padding,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  const heap = wasmHeap();
  const kernels = heap && simdKernels(heap.memory);
  if (heap && kernels) {
    // One SIMD pass on wasm's heap (simd-kernels.wat) instead of the six kernels below: at batch 32 on
    // convnet-bn's two pooling layers ~1.3 ms of a ~14 ms step.
    const out = heap.allocate([...x.shape]);
    const [n] = x.shape;
    kernels.maxPoolGrad(
      heap.pointer(x),
      heap.pointer(y),
      heap.pointer(dy),
      heap.pointer(out),
      n,
      h,
      wd,
      c,
      ph,
      pw,
    );
    return tf.engine().makeTensorFromTensorInfo(out, tf.backend());
  }
  // Elsewhere: upsampled by nearest neighbour (rank 4: wasm's Tile and rank-6 broadcasts are slow loops). The mask is
  // 1 - step(up(y) - x) (up(y) >= x, equal at the maximum): float kernels, where wasm's Equal and the Cast of its
  // bool result are scalar loops (measured at [128, 28, 28, 16]: ~0.8 ms against ~6.5 ms).
  const up = (t: tf.Tensor4D) => tf.image.resizeNearestNeighbor(t, [h, wd]);
  return tf.mul(tf.sub(1, tf.step(tf.sub(up(y), x))), up(dy));
}
