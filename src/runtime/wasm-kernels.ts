// Runtime: kernels tfjs-backend-wasm 4.22 lacks but nnc's training needs, built from kernels it has.
// Without Conv2DBackpropFilter, autograd of any conv2d fails on wasm ("Kernel 'Conv2DBackpropFilter' not
// registered for backend 'wasm'"), so a convnet could not train on the backend `auto` picks.
import * as tf from "@tensorflow/tfjs-core";

type Shape4 = [number, number, number, number];

/**
 * The gradient of conv2d with respect to its filter, as a convolution: dW[i, j, ci, co] =
 * sum over n, h, w of xPadded[n, h*sh + i, w*sw + j, ci] * dy[n, h, w, co], which is x (batch moved to the
 * channel axis) convolved with dy (batch as input channels) at dilation = the forward stride.
 */
function conv2dBackpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  strides: [number, number] | number,
  pad: tf.backend_util.PadInfo,
): tf.Tensor4D {
  const [kh, kw, ci, co] = filterShape;
  const [sh, sw] = typeof strides === "number" ? [strides, strides] : strides;
  // The padding goes to the conv as explicit padding of the transposed x (its spatial axes are x's): no padded
  // copy of x.
  const input = tf.transpose(x, [3, 1, 2, 0]); // [Ci, H, W, N]
  const filter = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [pad.top, pad.bottom],
    [pad.left, pad.right],
    [0, 0],
  ];
  const full = tf.conv2d(input, filter, 1, padding, "NHWC", [sh, sw]); // [Ci, >= kh, >= kw, Co]
  return tf.transpose(tf.slice(full, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
}

/** Registers the missing kernels for `wasm` (once; a later tfjs that has them keeps its own). */
export function registerMissingWasmKernels(): void {
  if (tf.getKernel(tf.Conv2DBackpropFilter, "wasm")) return;
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
        attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      if (dataFormat !== "NHWC")
        throw new Error(`Conv2DBackpropFilter on wasm: ${dataFormat} is not supported`);
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as Shape4,
        filterShape as Shape4,
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      // Computed with ops, then copied out: the filter gradient is small (kh*kw*Ci*Co values), and a fresh
      // TensorInfo keeps the engine's reference counting out of it.
      // The aliases share x's and dy's data: the backend's reference count is raised for them first, or
      // disposing an alias would free data its owner still uses (tfjs-layers reuses dy for the bias gradient).
      const kernelBackend = backend as tf.KernelBackend;
      const values = tf.tidy(() => {
        const engine = tf.engine();
        kernelBackend.incRef(x.dataId);
        kernelBackend.incRef(dy.dataId);
        const xt = engine.makeTensorFromTensorInfo(x, kernelBackend) as tf.Tensor4D;
        const dyt = engine.makeTensorFromTensorInfo(dy, kernelBackend) as tf.Tensor4D;
        return conv2dBackpropFilter(xt, dyt, filterShape as Shape4, strides, info.padInfo).dataSync();
      });
      const wasm = backend as tf.KernelBackend & {
        makeOutput(
          shape: number[],
          dtype: tf.DataType,
          memoryOffset?: number,
          values?: Float32Array,
        ): tf.TensorInfo;
      };
      return wasm.makeOutput([...filterShape], "float32", undefined, values as Float32Array);
    },
  });
}
