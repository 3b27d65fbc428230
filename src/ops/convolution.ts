// What the 2-D convolutions share (conv2d, depthwise_conv2d, separable_conv2d, conv2d_transpose): the Keras
// config of their window, its reading back by nnc import, and their kernels in ONNX's layout.
import { optionUnlessDefault, type ImportedStatement, type KerasConfigReader } from "./keras-import.ts";

/** A convolution's window as the IR holds it. */
export interface ConvWindow {
  kernelSize: [number, number];
  strides: [number, number];
  padding: "valid" | "same";
  dilation?: [number, number];
}

/** The Keras config of a convolution's window (Keras' Conv base: kernel_size, strides, padding, ...). */
export const windowConfig = (node: ConvWindow) => ({
  kernel_size: [...node.kernelSize],
  strides: [...node.strides],
  padding: node.padding,
  data_format: "channels_last",
  dilation_rate: [...(node.dilation ?? [1, 1])],
});

/** A pair as a statement writes it: 3 for [3, 3], 3x2 otherwise. */
export const pairText = ([a, b]: readonly [number, number]): string | number => (a === b ? a : `${a}x${b}`);

/**
 * nnc import: a convolution's `KxK` (pushed to `positional`), stride= and padding= (options where not the
 * default), and channels_last (windowConfig inverted). Dilation is the caller's: not every convolution has it.
 */
export function readWindow(
  r: KerasConfigReader,
  positional: ImportedStatement["positional"],
  options: ImportedStatement["options"],
): void {
  const [kh, kw] = r.pair("kernel_size");
  positional.push(`${kh}x${kw}`);
  const [sh, sw] = r.pair("strides", [1, 1]);
  if (sh !== 1 || sw !== 1) options.push(["stride", pairText([sh, sw])]);
  optionUnlessDefault(options, "padding", r.oneOf("padding", ["valid", "same"], "valid"), "valid");
  r.channelsLast();
}

/**
 * A kernel [kh, kw, a, b] (Keras' HWIO, row-major) as ONNX's [b, a, kh, kw]: Conv's OIHW from Keras' Conv2D
 * kernel [kh, kw, in, out], ConvTranspose's [in, out, kh, kw] from Keras' Conv2DTranspose kernel [kh, kw, out, in].
 */
export function hwabToBaHw(data: Float32Array, [kh, kw, a, b]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let h = 0; h < kh!; h++)
    for (let w = 0; w < kw!; w++)
      for (let i = 0; i < a!; i++)
        for (let o = 0; o < b!; o++)
          out[((o * a! + i) * kh! + h) * kw! + w] = data[((h * kw! + w) * a! + i) * b! + o]!;
  return out;
}
