// Training: a hand-written backward for networks of dense, batchnorm, elementwise activations, dropout and flatten
// -> gradients as autograd gives them (tested to 1e-5), with every matmul transpose materialised (wasm runs flagged
// matmuls on a scalar loop, notes/tfjs-facts.md), no first-layer input gradient, and batchnorm's closed form.
import * as tf from "@tensorflow/tfjs-core";
import type { Activation, Layer } from "../ir/schema.ts";
import { applyActivation } from "../lower/activations.ts";
import { reductionAxes, type BatchStatistics } from "../lower/batchnorm.ts";
import type { LoweredLoss } from "../lower/loss.ts";
import { dropoutMask, type BatchNormNode, type Network } from "../lower/network.ts";
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
type Stage = (x: tf.Tensor, ctx: Context) => { y: tf.Tensor; backward: Backward };

interface Context {
  dropoutRng: ((layer: string) => import("../util/random.ts").Random) | undefined;
  bnStats: StepGradients["bnStats"];
}

/**
 * The hand-written gradient function for `net`, or undefined when the network has a layer it does not cover
 * (conv, pooling, layernorm, elu/gelu, a softmax that is not the logits of a cross-entropy).
 */
export function manualGradients(net: Network, loss: LoweredLoss): GradientFn | undefined {
  const layers = net.model.layers;
  const crossEntropyLogits = loss.logits && net.outputActivation === "softmax";
  const stages: Stage[] = [];
  for (let i = 0; i < layers.length; i++) {
    const stage = stageFor(net, layers[i]!, i === net.logitsLayer && loss.logits);
    if (!stage) return undefined;
    stages.push(stage);
  }
  // Layers up to the first with weights need no input gradient: nothing upstream learns.
  const firstTrainable = layers.findIndex((l) =>
    net.weights.some((w) => w.trainable && w.name.startsWith(`${l.name}/`)),
  );

  return ({ x, y, dropoutRng }) => {
    const ctx: Context = { dropoutRng, bnStats: [] };
    const backwards: Backward[] = [];
    let h = x;
    for (const stage of stages) {
      const r = stage(h, ctx);
      backwards.push(r.backward);
      h = r.y;
    }
    const { loss: value, correct } = loss.compute(h, y);
    let dy: tf.Tensor;
    if (crossEntropyLogits) {
      // d mean(-log softmax(z)[label]) / dz = (softmax(z) - onehot) / batch
      const units = h.shape.at(-1)!;
      dy = tf.div(tf.sub(tf.softmax(h), tf.oneHot(y, units)), h.shape[0]!);
    } else {
      dy = tf.grad((out: tf.Tensor) => loss.compute(out, y).loss)(h);
    }
    const grads: Record<string, tf.Tensor> = {};
    for (let i = stages.length - 1; i >= Math.max(firstTrainable, 0); i--) {
      const dx = backwards[i]!(dy, grads, i > firstTrainable);
      if (i > firstTrainable) dy = dx!;
    }
    return { loss: value, correct, grads, bnStats: ctx.bnStats };
  };
}

function stageFor(net: Network, layer: Layer, logitsOutput: boolean): Stage | undefined {
  const w = (suffix: string) => net.weight(`${layer.name}/${suffix}`)?.variable;
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
      const bias = w("bias");
      return (x) => {
        const z = tf.matMul(x as tf.Tensor2D, kernel);
        const a = applyActivation(bias ? tf.add(z, bias) : z, activation);
        return {
          y: a,
          backward: (dy, grads, needDx) => {
            const dz = activationGrad(dy, a, activation);
            // Materialised transposes: flag-free matmuls take wasm's fast path.
            grads[`${layer.name}/kernel`] = tf.matMul(tf.transpose(x) as tf.Tensor2D, dz as tf.Tensor2D);
            if (bias) grads[`${layer.name}/bias`] = tf.sum(dz, 0);
            return needDx ? tf.matMul(dz as tf.Tensor2D, tf.transpose(kernel)) : undefined;
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
        const mask = dropoutMask(x.shape, layer.rate, ctx.dropoutRng(layer.name));
        return { y: tf.mul(x, mask), backward: (dy) => tf.mul(dy, mask) };
      };
    case "batchnorm": {
      const node = net.batchNorms.find((b) => b.layer === layer)!;
      return (x, ctx) => batchNormStage(x, node, ctx);
    }
    default:
      return undefined;
  }
}

/**
 * Batch normalization in training mode (formula: src/lower/batchnorm.ts) with its closed-form gradient:
 *   dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma / (m sqrt(var + eps)) * (m dy - dbeta - xhat dgamma)
 * with sums over every axis but the channel, m values per channel.
 */
function batchNormStage(x: tf.Tensor, node: BatchNormNode, ctx: Context) {
  const { layer, weights } = node;
  const axes = reductionAxes(x.rank);
  const channels = x.shape.at(-1)!;
  const count = x.size / channels;
  if (count < 2) throw new Error(`internal: batchnorm '${layer.name}' got a batch of one value per channel`);
  const { mean, variance } = tf.moments(x, axes);
  const inv = tf.rsqrt(tf.add(variance, layer.epsilon));
  const xhat = tf.mul(tf.sub(x, mean), inv);
  let y = weights.gamma ? tf.mul(xhat, weights.gamma) : xhat;
  if (weights.beta) y = tf.add(y, weights.beta);
  const stats: BatchStatistics = { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, count };
  ctx.bnStats.push({ node, stats });
  const backward: Backward = (dy, grads, needDx) => {
    const dbeta = tf.sum(dy, axes);
    const dgamma = tf.sum(tf.mul(dy, xhat), axes);
    if (weights.beta) grads[`${layer.name}/beta`] = dbeta;
    if (weights.gamma) grads[`${layer.name}/gamma`] = dgamma;
    if (!needDx) return undefined;
    const scale = weights.gamma ? tf.mul(weights.gamma, tf.div(inv, count)) : tf.div(inv, count);
    return tf.mul(scale, tf.sub(tf.sub(tf.mul(dy, count), dbeta), tf.mul(xhat, dgamma)));
  };
  return { y, backward };
}
