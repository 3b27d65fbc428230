// Training: a hand-written backward for networks of dense, conv2d, max pooling, batchnorm (dense [N,C] and conv NHWC),
// elementwise activations, dropout and flatten -> gradients as autograd gives them (tested to 1e-5), with matmul
// transposes materialised and conv input gradients as forward convolutions (wasm's fast XNNPACK paths), no
// first-layer input gradient, and batchnorm's closed form.
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, Layer, LayerOf } from "../ir/schema.ts";
import { applyActivation } from "../lower/activations.ts";
import { reductionAxes, type BatchStatistics } from "../lower/batchnorm.ts";
import type { LoweredLoss } from "../lower/loss.ts";
import { dropoutMaskValues, type BatchNormNode, type Network } from "../lower/network.ts";
import { sizeOf } from "../util/shape.ts";
import { channelAffine, channelCentered, channelMeans, channelMeansOfProduct } from "../lower/channel-ops.ts";
import { wholeBatch, type Shard } from "./shard.ts";
import { simdKernels } from "../runtime/simd-kernels.ts";
import { matMul as simdMatMul, simdChannels } from "../runtime/simd-ops.ts";
import { simdFilterGradient, type WasmBackend } from "../runtime/wasm-kernels.ts";
import { wasmHeap } from "./tensor-memory.ts";
import type { GradientFn, StepGradients } from "./step.ts";

const SUPPORTED_ACTIVATIONS: Activation[] = ["linear", "relu", "sigmoid", "tanh"];

/** d activation / d input, from the activation's output `a` (all supported ones allow it). */
function activationGrad(dy: tf.Tensor, a: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case "relu":
      return tf.mul(dy, tf.step(a));
    case "sigmoid":
      return tf.mul(dy, tf.mul(a, tf.sub(1, a)));
    case "tanh":
      return tf.mul(dy, tf.sub(1, tf.square(a)));
    default:
      return dy;
  }
}

/** One layer's forward in training mode; returns its output and the backward closure over what it saved. */
type Backward = (dy: tf.Tensor, grads: Record<string, tf.Tensor>, needDx: boolean) => tf.Tensor | undefined;
/** absorbedNext: the stage also applied the next layer (a relu after batchnorm), which is then skipped. */
type Stage = (x: tf.Tensor, ctx: Context) => { y: tf.Tensor; backward: Backward; absorbedNext?: boolean };

interface Context {
  dropoutRng: ((layer: string) => import("../util/random.ts").Random) | undefined;
  bnStats: StepGradients["bnStats"];
  /** This step's rows of the batch; batchnorm's statistics and the loss are over the whole batch. */
  shard: Shard;
}

/**
 * The hand-written gradient function for `net`, or undefined when the network has a layer it does not cover
 * (average pooling, layernorm, elu/gelu, a softmax that is not the logits of a cross-entropy).
 */
export function manualGradients(
  net: Network,
  loss: LoweredLoss,
  options: { jsLossHeadMaxValues?: number } = {},
): GradientFn | undefined {
  const jsHeadMax = options.jsLossHeadMaxValues ?? JS_HEAD_MAX_VALUES;
  const layers = net.model.layers;
  const crossEntropyLogits = loss.logits && net.outputActivation === "softmax";
  const stages: Stage[] = [];
  for (let i = 0; i < layers.length; i++) {
    const stage = stageFor(net, layers[i]!, i === net.logitsLayer && loss.logits, layers[i + 1]);
    if (!stage) return undefined;
    stages.push(stage);
  }
  // Layers up to the first with weights need no input gradient: nothing upstream learns.
  const firstTrainable = layers.findIndex((l) =>
    net.weights.some((w) => w.trainable && w.name.startsWith(`${l.name}/`)),
  );

  return ({ x, y, dropoutRng, shard = wholeBatch(x.shape[0]!) }) => {
    const ctx: Context = { dropoutRng, bnStats: [], shard };
    const backwards: Backward[] = [];
    let h = x;
    for (let i = 0; i < stages.length; i++) {
      const r = stages[i]!(h, ctx);
      backwards.push(r.backward);
      h = r.y;
      if (r.absorbedNext) {
        backwards.push((dy) => dy); // the absorbed layer's gradient is in the stage's backward
        i++;
      }
    }
    // The loss is the mean over the whole batch: this share's rows weigh rows / total of it.
    let value: tf.Scalar;
    let correct: tf.Scalar;
    let dy: tf.Tensor;
    if (crossEntropyLogits && h.size <= jsHeadMax) {
      ({ loss: value, correct, dy } = softmaxCrossEntropyHead(h, y, shard.total));
    } else if (crossEntropyLogits) {
      ({ loss: value, correct } = loss.compute(h, y));
      // d mean(-log softmax(z)[label]) / dz = (softmax(z) - onehot) / batch
      const units = h.shape.at(-1)!;
      dy = tf.div(tf.sub(tf.softmax(h), tf.oneHot(y, units)), shard.total);
    } else {
      ({ loss: value, correct } = loss.compute(h, y));
      dy = tf.grad((out: tf.Tensor) => loss.compute(out, y).loss)(h);
      if (shard.rows !== shard.total) dy = tf.mul(dy, shard.rows / shard.total);
    }
    const grads: Record<string, tf.Tensor> = {};
    for (let i = stages.length - 1; i >= Math.max(firstTrainable, 0); i--) {
      const dx = backwards[i]!(dy, grads, i > firstTrainable);
      if (i > firstTrainable) dy = dx!;
    }
    return { loss: value, correct, grads, bnStats: ctx.bnStats };
  };
}

/** Logits up to this many values (batch x classes) take the JS head below; larger ones stay tf kernels. */
const JS_HEAD_MAX_VALUES = 1 << 16;

/**
 * Softmax cross-entropy from logits, in JS over the logits' values: the mean loss over these rows, the correct
 * count (argmax, first of ties, as tf.argMax) and dz = (softmax(z) - onehot) / total. As tf ops this is ~20
 * kernels on a [batch, 10] tensor (log-softmax, softmax, two one-hots, argmax, equal, casts, sums) whose
 * dispatch, not arithmetic, cost ~14% of the MLP's batch-32 step on wasm; here it is one read and one upload.
 * Float64 inside, so at least as exact as the kernels.
 */
function softmaxCrossEntropyHead(z: tf.Tensor, labels: tf.Tensor1D, total: number) {
  const [rows, units] = [z.shape[0]!, z.shape.at(-1)!];
  const logits = z.dataSync() as Float32Array;
  const y = labels.dataSync() as Int32Array;
  const dz = new Float32Array(logits.length);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < rows; i++) {
    const row = logits.subarray(i * units, (i + 1) * units);
    let best = 0;
    for (let j = 1; j < units; j++) if (row[j]! > row[best]!) best = j;
    const max = row[best]!;
    let sum = 0;
    for (let j = 0; j < units; j++) sum += Math.exp(row[j]! - max);
    const label = y[i]!;
    // A label outside [0, units) is refused before training (E506): it cannot reach here.
    loss += Math.log(sum) + max - row[label]!;
    if (best === label) correct++;
    for (let j = 0; j < units; j++) {
      dz[i * units + j] = (Math.exp(row[j]! - max) / sum - (j === label ? 1 : 0)) / total;
    }
  }
  return {
    loss: tf.scalar(loss / rows),
    correct: tf.scalar(correct),
    dy: tf.tensor(dz, z.shape, "float32"),
  };
}

function stageFor(
  net: Network,
  layer: Layer,
  logitsOutput: boolean,
  next: Layer | undefined,
): Stage | undefined {
  const w = (suffix: string) => net.weight(`${layer.name}/${suffix}`)?.variable;
  // A bias the next batchnorm absorbs is not added in training, its gradient is 0 (Network.absorbedBiases).
  const absorbed = net.absorbedBiases.find((b) => b.name === `${layer.name}/bias`)?.variable;
  switch (layer.op) {
    case "input":
    case "flatten":
      return (x) => {
        const y = layer.op === "flatten" ? tf.reshape(x, [x.shape[0]!, -1]) : x;
        return { y, backward: (dy) => tf.reshape(dy, x.shape) };
      };
    case "dense": {
      const activation = logitsOutput ? "linear" : layer.activation;
      if (!SUPPORTED_ACTIVATIONS.includes(activation)) return undefined;
      const kernel = w("kernel")! as tf.Tensor2D;
      const bias = absorbed ? undefined : w("bias");
      return (x) => {
        const a = applyActivation(simdMatMul(x as tf.Tensor2D, kernel, bias), activation);
        return {
          y: a,
          backward: (dy, grads, needDx) => {
            const dz = activationGrad(dy, a, activation);
            // Materialised transposes: flag-free matmuls take wasm's fast path.
            grads[`${layer.name}/kernel`] = tf.matMul(tf.transpose(x) as tf.Tensor2D, dz as tf.Tensor2D);
            if (bias) grads[`${layer.name}/bias`] = tf.sum(dz, 0);
            if (absorbed) grads[`${layer.name}/bias`] = tf.zerosLike(absorbed);
            return needDx ? simdMatMul(dz as tf.Tensor2D, tf.transpose(kernel)) : undefined;
          },
        };
      };
    }
    case "activation": {
      const activation = logitsOutput ? "linear" : layer.activation;
      if (!SUPPORTED_ACTIVATIONS.includes(activation)) return undefined;
      return (x) => {
        const a = applyActivation(x, activation);
        return { y: a, backward: (dy) => activationGrad(dy, a, activation) };
      };
    }
    case "dropout":
      return (x, ctx) => {
        if (!ctx.dropoutRng)
          throw new Error(`internal: dropout '${layer.name}' in training without a mask stream`);
        // The whole batch's mask, drawn as one thread would, and this share's rows of it.
        const { offset, rows, total } = ctx.shard;
        const perRow = sizeOf(x.shape.slice(1));
        const values = dropoutMaskValues(total * perRow, layer.rate, ctx.dropoutRng(layer.name));
        const mask = tf.tensor(
          values.subarray(offset * perRow, (offset + rows) * perRow),
          x.shape,
          "float32",
        );
        return { y: tf.mul(x, mask), backward: (dy) => tf.mul(dy, mask) };
      };
    case "conv2d": {
      const activation = logitsOutput ? "linear" : layer.activation;
      if (!SUPPORTED_ACTIVATIONS.includes(activation)) return undefined;
      const kernel = w("kernel")! as tf.Tensor4D;
      const bias = absorbed ? undefined : w("bias");
      return (x) => {
        const z = tf.conv2d(x as tf.Tensor4D, kernel, layer.strides, layer.padding);
        const a = applyActivation(bias ? tf.add(z, bias) : z, activation);
        return {
          y: a,
          backward: (dy, grads, needDx) => {
            const dz = activationGrad(dy, a, activation) as tf.Tensor4D;
            grads[`${layer.name}/kernel`] = conv2dFilterGrad(x as tf.Tensor4D, dz, kernel.shape, layer);
            if (bias) grads[`${layer.name}/bias`] = tf.mul(channelMeans(dz), dz.size / dz.shape[3]);
            if (absorbed) grads[`${layer.name}/bias`] = tf.zerosLike(absorbed);
            return needDx ? conv2dInputGrad(dz, kernel, x.shape as Shape4, layer) : undefined;
          },
        };
      };
    }
    case "maxpool":
      return (x) => {
        const y = tf.maxPool(x as tf.Tensor4D, layer.poolSize, layer.strides, layer.padding);
        return { y, backward: (dy) => maxPoolGrad(dy as tf.Tensor4D, x as tf.Tensor4D, y, layer) };
      };
    case "batchnorm": {
      const node = net.batchNorms.find((b) => b.layer === layer)!;
      // batchnorm -> relu: the per-channel-pass form applies the relu in its last pass, and its derivative in
      // the backward's (a relu is never the logits layer: that is a softmax or sigmoid). That form serves NHWC
      // always, and [N, C] where the passes are SIMD kernels (wasm: the BN MLP's step at batch 32 0.75 -> 0.66
      // ms, at 512 10.8 -> 8.4); elsewhere [N, C] takes tf's kernels.
      const relu = next?.op === "activation" && next.activation === "relu";
      return (x, ctx) =>
        x.rank === 4 || simdChannels(x.shape.at(-1)!)
          ? channelPassBatchNormStage(x, node, ctx, relu)
          : denseBatchNormStage(x, node, ctx);
    }
    default:
      return undefined;
  }
}

/**
 * Batch normalization in training mode (formula: src/lower/batchnorm.ts) with its closed-form gradient:
 *   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma / (m sqrt(var + eps)) * (m dy - dbeta - xhat dgamma)
 * with sums over the batch, m values per channel: for [N, C] where the SIMD passes do not apply (not wasm, or
 * channels not a multiple of 4), since tfjs' own kernels are small there and fewer kernels dispatched is what
 * counts (the tf-op form of the per-channel passes below made the BN MLP's step at batch 32 ~30% slower: 158
 * kernels instead of 96).
 */
function denseBatchNormStage(x: tf.Tensor, node: BatchNormNode, ctx: Context) {
  const { layer, weights, absorbedBias: absorbed } = node;
  const axes = reductionAxes(x.rank);
  const channels = x.shape.at(-1)!;
  const { shard } = ctx;
  const count = ((x.size / channels) * shard.total) / shard.rows; // values per channel in the whole batch
  if (count < 2) throw new Error(`internal: batchnorm '${layer.name}' got a batch of one value per channel`);
  const local = tf.moments(x, axes);
  const { mean, variance } = shard.moments(local.mean, local.variance);
  const inv = tf.rsqrt(tf.add(variance, layer.epsilon));
  const xhat = tf.mul(tf.sub(x, mean), inv);
  let y = weights.gamma ? tf.mul(xhat, weights.gamma) : xhat;
  if (weights.beta) y = tf.add(y, weights.beta);
  // The batch mean of (x + bias) when the previous layer's bias was not added (Network.absorbedBiases).
  const statMean = (absorbed ? tf.add(mean, absorbed) : mean) as tf.Tensor1D;
  const stats: BatchStatistics = { mean: statMean, variance: variance as tf.Tensor1D, count };
  ctx.bnStats.push({ node, stats });
  const backward: Backward = (dy, grads, needDx) => {
    // This share's part of each sum is its gamma/beta gradient (the step sums every weight's over shares); the
    // input gradient needs the whole batch's.
    const mine = [tf.sum(dy, axes), tf.sum(tf.mul(dy, xhat), axes)];
    if (weights.beta) grads[`${layer.name}/beta`] = mine[0]!;
    if (weights.gamma) grads[`${layer.name}/gamma`] = mine[1]!;
    const [dbeta, dgamma] = shard.sum(mine) as [tf.Tensor, tf.Tensor];
    if (!needDx) return undefined;
    const scale = weights.gamma ? tf.mul(weights.gamma, tf.div(inv, count)) : tf.div(inv, count);
    return tf.mul(scale, tf.sub(tf.sub(tf.mul(dy, count), dbeta), tf.mul(xhat, dgamma)));
  };
  return { y, backward };
}

/**
 * Batch normalization in training mode, NHWC or [N, C] (formula: src/lower/batchnorm.ts) with its closed-form
 * gradient:
 *   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma / (m sqrt(var + eps)) * (m dy - dbeta - xhat dgamma)
 * with sums over every axis but the channel, m values per channel. Written with src/lower/channel-ops.ts'
 * per-channel passes (one SIMD pass each on wasm: means, centering with the mean square, the scale-and-shift,
 * the backward's two means and its two-term affine). It keeps c = x - mean, not xhat = c inv with
 * inv = 1 / sqrt(var + eps), so that
 *   y = c (gamma inv) + beta,  dgamma = m inv mean(dy c),  dx = dy (gamma inv) + c b + d
 * with b = -gamma inv^3 mean(dy c) and d = -gamma inv mean(dy) per channel.
 */
function channelPassBatchNormStage(x: tf.Tensor, node: BatchNormNode, ctx: Context, relu: boolean) {
  const { layer, weights, absorbedBias: absorbed } = node;
  const channels = x.shape.at(-1)!;
  const { shard } = ctx;
  const count = ((x.size / channels) * shard.total) / shard.rows; // values per channel in the whole batch
  if (count < 2) throw new Error(`internal: batchnorm '${layer.name}' got a batch of one value per channel`);
  const localMean = channelMeans(x);
  // With a share of the batch, c is about the whole batch's mean: this share's centering is not kept then.
  const local = channelCentered(x, localMean, { keep: shard.rows === shard.total });
  const { mean, variance } = shard.moments(localMean, local.meanSquare);
  const c = (mean === localMean ? local.centered : channelCentered(x, mean).centered)!;
  const inv = tf.rsqrt(tf.add(variance, layer.epsilon));
  const factor = weights.gamma ? tf.mul(weights.gamma, inv) : inv;
  const y = channelAffine(c, factor, { shift: weights.beta, relu });
  // With the relu absorbed, dy is the gradient of relu(y): it counts where y > 0.
  const gate = relu ? y : undefined;
  // The batch mean of (x + bias) when the previous layer's bias was not added (Network.absorbedBiases).
  const statMean = (absorbed ? tf.add(mean, absorbed) : mean) as tf.Tensor1D;
  const stats: BatchStatistics = { mean: statMean, variance: variance as tf.Tensor1D, count };
  ctx.bnStats.push({ node, stats });
  const backward: Backward = (dy, grads, needDx) => {
    const mine = channelMeansOfProduct(dy, c, gate);
    // This share's part of each sum is its gamma/beta gradient (the step sums every weight's over shares); the
    // input gradient needs the whole batch's means.
    const values = x.size / channels; // values per channel in this share
    if (weights.beta) grads[`${layer.name}/beta`] = tf.mul(mine[0]!, values);
    if (weights.gamma) grads[`${layer.name}/gamma`] = tf.mul(mine[1]!, tf.mul(inv, values));
    const [meanDy, meanDyC] = shard.mean(mine) as [tf.Tensor, tf.Tensor];
    if (!needDx) return undefined;
    const b = tf.neg(tf.mul(tf.mul(factor, tf.square(inv)), meanDyC));
    const d = tf.neg(tf.mul(factor, meanDy));
    return channelAffine(dy, factor, { shift: d, plus: { t: c, scale: b }, gate });
  };
  return { y, backward, absorbedNext: relu };
}

type Shape4 = [number, number, number, number];

/**
 * dW of a conv2d: the backend's Conv2DBackpropFilter (on wasm the kernel src/runtime/wasm-kernels.ts adds: a SIMD
 * implicit GEMM for filter counts that are multiples of 8), except for one input channel where that is not
 * available, where it is patches^T x dz: the patches [M, kh*kw] from one depthwise convolution with one-hot
 * filters, transposed (cheap at kh*kw columns) and multiplied flag-free. On wasm without the SIMD kernel, at
 * [128, 28, 28, 1] -> 16: 6.9 ms against 12.2 ms for the dilated-convolution form, most of whose time is XNNPACK
 * packing dz (784 x 128 x 16 values) as weights; the SIMD kernel takes 2.1 ms there. With more input channels
 * the patches grow kh*kw-fold and the kernel wins (measured at 16 channels: 32 ms against 14 ms).
 */
function conv2dFilterGrad(x: tf.Tensor4D, dz: tf.Tensor4D, filterShape: Shape4, layer: LayerOf<"conv2d">) {
  const [kh, kw, ci, co] = filterShape;
  const simd = tf.getBackend() === "wasm" && simdFilterGradient(tf.backend() as WasmBackend, co);
  if (ci === 1 && !simd) {
    const taps = kh * kw;
    const oneHot = new Float32Array(taps * taps);
    for (let k = 0; k < taps; k++) oneHot[k * taps + k] = 1; // filter [kh, kw, 1, taps]: tap k -> channel k
    const patches = tf.depthwiseConv2d(
      x,
      tf.tensor4d(oneHot, [kh, kw, 1, taps]),
      layer.strides,
      layer.padding,
    );
    const patchesT = tf.transpose(tf.reshape(patches, [-1, taps])) as tf.Tensor2D;
    return tf.reshape(
      tf.matMul(patchesT, tf.reshape(dz, [-1, co]) as tf.Tensor2D),
      filterShape,
    ) as tf.Tensor4D;
  }
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz }, {
    strides: layer.strides,
    pad: layer.padding,
    dataFormat: "NHWC",
    dimRoundingMode: undefined,
    filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * dx of a conv2d. At stride 1 it is a forward convolution of dz with the kernel flipped in space and its channel
 * axes swapped, padded so the output has x's size: XNNPACK's fast path on wasm, where Conv2DBackpropInput is a
 * scalar loop (the largest kernel of a convnet step). Other strides keep conv2dTranspose.
 */
function conv2dInputGrad(dz: tf.Tensor4D, kernel: tf.Tensor4D, xShape: Shape4, layer: LayerOf<"conv2d">) {
  const [kh, kw] = layer.kernelSize;
  if (layer.strides[0] !== 1 || layer.strides[1] !== 1) {
    return tf.conv2dTranspose(dz, kernel, xShape, layer.strides, layer.padding);
  }
  const flipped = flippedKernel(kernel);
  // Forward padding (top, left) = p means the flipped convolution pads k - 1 - p there: passed to the conv as
  // explicit padding (XNNPACK pads in its indirection buffer; a tf.pad copied dz first).
  const [top, bottom] = layer.padding === "same" ? samePads(xShape[1], kh) : [0, 0];
  const [left, right] = layer.padding === "same" ? samePads(xShape[2], kw) : [0, 0];
  return tf.conv2d(dz, flipped, 1, [
    [0, 0],
    [kh - 1 - top, kh - 1 - bottom],
    [kw - 1 - left, kw - 1 - right],
    [0, 0],
  ]);
}

/**
 * A conv kernel [kh, kw, ci, co] flipped in space with its channel axes swapped: [kh, kw, co, ci]. On wasm one
 * JS pass over the heap (convnet-bn's 4,608 values: ~0.01 ms), where tf.reverse is a generic loop (0.13 ms).
 */
function flippedKernel(kernel: tf.Tensor4D): tf.Tensor4D {
  const heap = wasmHeap();
  if (!heap) return tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]);
  const [kh, kw, ci, co] = kernel.shape;
  const out = heap.allocate([kh, kw, co, ci]);
  // Views after the allocation: a heap that grows detaches older ones.
  const from = heap.view(kernel);
  const to = heap.view(out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const source = (i * kw + j) * ci * co;
      const target = ((kh - 1 - i) * kw + (kw - 1 - j)) * co * ci;
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) to[target + o * ci + c] = from[source + c * co + o]!;
      }
    }
  }
  return tf.engine().makeTensorFromTensorInfo(out, tf.backend()) as tf.Tensor4D;
}

/** TensorFlow's 'same' padding at stride 1: k - 1 in all, the odd one at the bottom/right. */
function samePads(_size: number, k: number): [number, number] {
  return [Math.floor((k - 1) / 2), k - 1 - Math.floor((k - 1) / 2)];
}

/**
 * dx of max pooling. Windows that tile the input (pool = stride, sizes divisible): dy goes to where x equals its
 * window's maximum, on wasm in one SIMD pass (simd-kernels.wat), elsewhere by a mask of where x equals its
 * upsampled maximum. Differs from tfjs only on exact ties inside a window (tfjs routes to the first maximum; here
 * every tied position gets it); after relu such ties are zeros whose gradient relu's backward drops anyway.
 * Other windows take the backend's MaxPoolGrad (on wasm nnc's own: runtime/wasm-kernels.ts).
 */
function maxPoolGrad(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, layer: LayerOf<"maxpool">): tf.Tensor {
  const [ph, pw] = layer.poolSize;
  const [, h, wd, c] = x.shape;
  const tiles = layer.strides[0] === ph && layer.strides[1] === pw && h % ph === 0 && wd % pw === 0;
  if (!tiles) {
    return tf.engine().runKernel(tf.MaxPoolGrad, { dy, input: x, output: y }, {
      filterSize: layer.poolSize,
      strides: layer.strides,
      pad: layer.padding,
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
