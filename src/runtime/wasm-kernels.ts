// Runtime: kernels tfjs-backend-wasm 4.22 lacks or gets wrong, but nnc's training needs.
// Without Conv2DBackpropFilter, autograd of any conv2d fails on wasm ("Kernel 'Conv2DBackpropFilter' not
// registered for backend 'wasm'"), so a convnet could not train on the backend `auto` picks. Its MaxPoolGrad
// returns wrong values for many shapes (measured against the cpu backend on random inputs: [2, 6, 6, C] with C =
// 2..12 and 2x2 windows at stride 2 or 1, and [16, 6, 6, 6] with 3x3 windows, off by up to the values' own size),
// so autograd through max pooling, and tfjs-layers' fit, trained on wrong gradients there. It has no depthwise
// convolution gradients either (DepthwiseConv2dNativeBackpropFilter / Input).
import * as tf from "@tensorflow/tfjs-core";
import { simdKernels, type SimdKernels } from "./simd-kernels.ts";
import { withBuffers } from "./simd-ops.ts";
import { depthwiseFilterGrad, depthwiseInputGrad } from "../kernels/depthwise-grads.ts";

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

/**
 * A conv's input padding, extended at the bottom and right where its last windows reach past the padded input
 * (dimRoundingMode "ceil" with numeric padding): those positions are zeros too, as on the cpu backend.
 */
function reachPadding(info: tf.backend_util.Conv2DInfo): tf.backend_util.PadInfo {
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } =
    info;
  const pad = info.padInfo;
  return {
    ...pad,
    bottom: Math.max(pad.bottom, (outHeight - 1) * strideHeight + filterHeight - inHeight - pad.top),
    right: Math.max(pad.right, (outWidth - 1) * strideWidth + filterWidth - inWidth - pad.left),
  };
}

/**
 * The filter gradient by simd-kernels.wat's implicit GEMM over x (padded explicitly when the conv pads) and dy
 * in the heap: dW[(i, j, ci), co] = sum over output pixels of xPadded[pixel's window corner + (i, j, ci)] *
 * dy[pixel, co]. On wasm at [32, 14, 14, 16] -> 32 channels, 3x3: 1.3 ms (~22 GMAC/s) against 4.0 ms for the
 * dilated-convolution form below, whose time goes mostly to XNNPACK packing dy as the weights of a fresh
 * convolution.
 */
function simdConv2dBackpropFilter(
  backend: WasmBackend,
  simd: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, outHeight, outWidth, padInfo: pad } = info;
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const { bottom, right } = reachPadding(info); // the kernel never reads past the padded copy
  const padded = pad.top + bottom + pad.left + right > 0;
  const [hp, wp] = [h + pad.top + bottom, w + pad.left + right];
  const taps = kh * kw * ci;
  // tfjs checks dy's rank and depth only; the kernel reads all of it by address.
  const want = [n, outHeight, outWidth, co];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== want[i]))
    throw new Error(
      `Conv2DBackpropFilter: dy has shape [${dy.shape}], the convolution's output is [${want}]`,
    );
  const at = (t: tf.TensorInfo) => backend.getMemoryOffset(t.dataId);
  return withBuffers(
    backend,
    (allocate) => {
      const xp = padded ? allocate([n, hp, wp, ci]) : x;
      // The kernel loads a tile's 4 offsets at once: the table is padded to a multiple of 4.
      const offsets = allocate([Math.ceil(taps / 4) * 4], "int32");
      const out = allocate([kh, kw, ci, co]);
      // Views after the allocations: a heap that grows detaches older ones.
      const table = backend.typedArrayFromHeap(offsets) as unknown as Int32Array; // an int32 tensor's view
      table.fill(0);
      for (let i = 0, k = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) for (let c = 0; c < ci; c++) table[k++] = ((i * wp + j) * ci + c) * 4;
      }
      backend.typedArrayFromHeap(out).fill(0);
      if (padded) simd.padImages(at(x), at(xp), n, h, w, ci, pad.top, bottom, pad.left, right);
      if (n * outHeight * outWidth > 0) {
        simd.convFilterGrad(
          at(xp),
          at(dy),
          at(out),
          at(offsets),
          taps,
          co,
          n,
          outHeight,
          outWidth,
          hp * wp * ci * 4,
          sh * wp * ci * 4,
          sw * ci * 4,
        );
      }
      return out;
    },
    (out) => [out],
  );
}

/** The SIMD kernels when wasm's filter gradient of a conv with `filters` output channels runs on them. */
export function simdFilterGradient(backend: WasmBackend, filters: number): SimdKernels | undefined {
  return filters % 8 === 0 ? simdKernels(backend.wasm?.asm?.memory) : undefined;
}

/** What the wasm backend offers beyond a KernelBackend (tfjs-backend-wasm 4.22, BackendWasm). */
export interface WasmBackend extends tf.KernelBackend {
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: Float32Array,
  ): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  getMemoryOffset(dataId: tf.DataId): number;
  wasm?: { asm?: { memory?: object } };
}

/**
 * Max pooling's input gradient as tfjs' cpu backend computes it: each window's dy goes to the first position
 * holding the window's maximum (positions in padding never do; a window of only NaN or -Infinity passes none);
 * overlapping windows add up. In JS over the
 * heap's values: the compiled training step has its own SIMD kernel for the common tiling windows
 * (src/runtime/simd-kernels.wat); this serves autograd and overlapping windows.
 */
function maxPoolGrad(
  backend: WasmBackend,
  dyInfo: tf.TensorInfo,
  xInfo: tf.TensorInfo,
  attrs: tf.MaxPoolGradAttrs,
): tf.TensorInfo {
  const info = tf.backend_util.computePool2DInfo(
    xInfo.shape as Shape4,
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const out = backend.makeOutput([...xInfo.shape], "float32");
  // Views after the allocation: a heap that grows detaches older ones.
  const x = backend.typedArrayFromHeap(xInfo);
  const dy = backend.typedArrayFromHeap(dyInfo);
  const dx = backend.typedArrayFromHeap(out);
  dx.fill(0);
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const best = new Int32Array(c);
  const bestValue = new Float32Array(c);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        best.fill(-1);
        bestValue.fill(-Infinity);
        for (let i = 0; i < fh; i++) {
          const ih = oh * strideHeight - top + i;
          if (ih < 0 || ih >= inHeight) continue;
          for (let j = 0; j < fw; j++) {
            const iw = ow * strideWidth - left + j;
            if (iw < 0 || iw >= inWidth) continue;
            const base = ((n * inHeight + ih) * inWidth + iw) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k]!;
              if (v > bestValue[k]!) {
                bestValue[k] = v;
                best[k] = base + k;
              }
            }
          }
        }
        const o = ((n * outHeight + oh) * outWidth + ow) * c;
        for (let k = 0; k < c; k++) if (best[k]! >= 0) dx[best[k]!] += dy[o + k]!;
      }
    }
  }
  return out;
}

const correctMaxPoolGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as unknown as { dy: tf.TensorInfo; input: tf.TensorInfo };
  return maxPoolGrad(backend as WasmBackend, dy, input, attrs as unknown as tf.MaxPoolGradAttrs);
};

/**
 * Registers the missing and the corrected kernels for `wasm`. Call it after importing tfjs-backend-wasm too:
 * importing it registers the backend's own kernels, and its MaxPoolGrad is replaced only once it is there (a
 * replacement registered first would be overwritten, with a warning, by the import).
 */
export function registerMissingWasmKernels(): void {
  const maxPool = tf.getKernel(tf.MaxPoolGrad, "wasm");
  if (maxPool && maxPool.kernelFunc !== correctMaxPoolGrad) {
    tf.unregisterKernel(tf.MaxPoolGrad, "wasm"); // or tfjs warns about the duplicate
    tf.registerKernel({ kernelName: tf.MaxPoolGrad, backendName: "wasm", kernelFunc: correctMaxPoolGrad });
  }
  registerDepthwiseGradients();
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
      const kernelBackend = backend as WasmBackend;
      const simd = simdFilterGradient(kernelBackend, filterShape[3]);
      if (simd) return simdConv2dBackpropFilter(kernelBackend, simd, x, dy, info);
      // Otherwise computed with ops, then copied out: the filter gradient is small (kh*kw*Ci*Co values), and a
      // fresh TensorInfo keeps the engine's reference counting out of it.
      // The aliases share x's and dy's data: the backend's reference count is raised for them first, or
      // disposing an alias would free data its owner still uses (tfjs-layers reuses dy for the bias gradient).
      const alias = (t: tf.TensorInfo) => {
        kernelBackend.incRef(t.dataId);
        return tf.engine().makeTensorFromTensorInfo(t, kernelBackend) as tf.Tensor4D;
      };
      const values = tf.tidy(() =>
        conv2dBackpropFilter(
          alias(x),
          alias(dy),
          filterShape as Shape4,
          strides,
          reachPadding(info),
        ).dataSync(),
      );
      return kernelBackend.makeOutput([...filterShape], "float32", undefined, values as Float32Array);
    },
  });
}

/**
 * A depthwise convolution's gradients (tfjs-core's depthwiseConv2d gradient runs these kernels, which wasm
 * lacks): computed with forward ops (src/kernels/depthwise-grads.ts), then copied out as a fresh output.
 */
function registerDepthwiseGradients(): void {
  if (tf.getKernel(tf.DepthwiseConv2dNativeBackpropFilter, "wasm")) return;
  const alias = (backend: WasmBackend, t: tf.TensorInfo) => {
    // The alias shares t's data: the backend's reference count is raised first, or disposing the alias would
    // free data its owner still uses.
    backend.incRef(t.dataId);
    return tf.engine().makeTensorFromTensorInfo(t, backend) as tf.Tensor4D;
  };
  const geometry = (attrs: { strides: number | [number, number]; pad: unknown; dilations?: unknown }) => {
    const { strides, pad, dilations } = attrs;
    if (pad !== "same" && pad !== "valid")
      throw new Error(
        `depthwise convolution gradients on wasm: padding ${JSON.stringify(pad)} is not supported`,
      );
    const d = dilations ?? 1;
    if (!(d === 1 || (Array.isArray(d) && d.every((v) => v === 1))))
      throw new Error("depthwise convolution gradients on wasm: dilations are not supported");
    return {
      strides: (typeof strides === "number" ? [strides, strides] : strides) as [number, number],
      padding: pad as "same" | "valid",
    };
  };
  tf.registerKernel({
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
      const { strides, padding } = geometry(a);
      const b = backend as WasmBackend;
      const values = tf.tidy(() =>
        depthwiseFilterGrad(alias(b, x), alias(b, dy), a.filterShape, strides, padding).dataSync(),
      );
      return b.makeOutput([...a.filterShape], "float32", undefined, values as Float32Array);
    },
  });
  tf.registerKernel({
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const a = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
      const { strides, padding } = geometry(a);
      const b = backend as WasmBackend;
      const values = tf.tidy(() => {
        const k = alias(b, filter);
        const node = { kernelSize: [k.shape[0], k.shape[1]] as [number, number], strides, padding };
        return depthwiseInputGrad(alias(b, dy), k, a.inputShape, node).dataSync();
      });
      return b.makeOutput([...a.inputShape], "float32", undefined, values as Float32Array);
    },
  });
}
