// The kernel registry: every op's back-end half (src/kernels/<op>.ts: weights, forward, compiled-step stage),
// keyed by op, beside the op registry of the front end (src/ops/index.ts). Lowering and training look a node's
// kernel up here (kernelOf) rather than switch on its op; the record's type makes a missing kernel a type error.
import type { Layer, LayerOf, LayerOp } from "../ir/schema.ts";
import { activation } from "./activation.ts";
import { add } from "./add.ts";
import { average } from "./average.ts";
import { avgpool } from "./avgpool.ts";
import { avgpool1d } from "./avgpool1d.ts";
import { batchnorm } from "./batchnorm.ts";
import { concat } from "./concat.ts";
import { conv1d } from "./conv1d.ts";
import { conv2d } from "./conv2d.ts";
import { conv2dTranspose } from "./conv2d_transpose.ts";
import { depthwiseConv2d } from "./depthwise_conv2d.ts";
import { cropping2d } from "./cropping2d.ts";
import { dense } from "./dense.ts";
import { dropout } from "./dropout.ts";
import { spatialDropout } from "./spatial_dropout.ts";
import { gaussianNoise } from "./gaussian_noise.ts";
import { flatten } from "./flatten.ts";
import { globalavgpool } from "./globalavgpool.ts";
import { globalavgpool1d } from "./globalavgpool1d.ts";
import { globalmaxpool } from "./globalmaxpool.ts";
import { globalmaxpool1d } from "./globalmaxpool1d.ts";
import { input } from "./input.ts";
import type { KernelDefinition } from "./kernel.ts";
import { layernorm } from "./layernorm.ts";
import { maximum } from "./maximum.ts";
import { maxpool } from "./maxpool.ts";
import { maxpool1d } from "./maxpool1d.ts";
import { reshape } from "./reshape.ts";
import { separableConv2d } from "./separable_conv2d.ts";
import { subtract } from "./subtract.ts";
import { minimum } from "./minimum.ts";
import { multiply } from "./multiply.ts";
import { prelu } from "./prelu.ts";
import { upsampling2d } from "./upsampling2d.ts";
import { zeropadding2d } from "./zeropadding2d.ts";

export const KERNELS: { readonly [O in LayerOp]: KernelDefinition<LayerOf<O>> } = {
  input,
  flatten,
  dense,
  batchnorm,
  activation,
  prelu,
  dropout,
  spatial_dropout: spatialDropout,
  gaussian_noise: gaussianNoise,
  conv1d,
  conv2d,
  depthwise_conv2d: depthwiseConv2d,
  separable_conv2d: separableConv2d,
  conv2d_transpose: conv2dTranspose,
  maxpool,
  avgpool,
  globalavgpool,
  globalmaxpool,
  maxpool1d,
  avgpool1d,
  globalavgpool1d,
  globalmaxpool1d,
  layernorm,
  add,
  concat,
  multiply,
  average,
  maximum,
  minimum,
  subtract,
  upsampling2d,
  zeropadding2d,
  cropping2d,
  reshape,
};

/** The kernel of a node's op. */
export function kernelOf<N extends Layer>(node: N): KernelDefinition<N> {
  const kernel = (KERNELS as Record<string, KernelDefinition<Layer> | undefined>)[node.op];
  if (!kernel) throw new Error(`internal: no kernel module for op '${node.op}'`);
  return kernel as unknown as KernelDefinition<N>;
}

export type * from "./kernel.ts";
