// Lowering: a checked IR model -> a Network: the model's weights as tf.Variables with Keras names and seeded
// initial values, and one forward function in NHWC with a training and an inference mode. Training code
// (src/train/) drives it; the CompiledModel (model.ts) wraps it for callers.
import * as tf from "@tensorflow/tfjs-core";
import "./register-gradients.ts";
import type { Activation, Initializer, Layer, LayerOf, Model } from "../ir/schema.ts";
import { Random } from "../util/random.ts";
import { sizeOf } from "../util/shape.ts";
import { applyActivation, fusable } from "./activations.ts";
import {
  batchNormInference,
  batchNormTraining,
  type BatchNormLayer,
  type BatchNormWeights,
  type BatchStatistics,
} from "./batchnorm.ts";
import { initialValues } from "./initializers.ts";
import { outputActivation } from "../ir/loss-rules.ts";

export interface WeightEntry {
  /** Keras name: "dense/kernel", "batch_normalization/moving_mean", ... */
  name: string;
  variable: tf.Variable;
  trainable: boolean;
}

/** A batchnorm layer as the trainer sees it: its weights, for the moving-average update. */
export interface BatchNormNode {
  index: number;
  layer: BatchNormLayer;
  weights: BatchNormWeights;
  /** The previous layer's bias, absorbed by this layer in training (see Network.absorbedBiases). */
  absorbedBias?: tf.Variable;
}

export interface ForwardOptions {
  training: boolean;
  /** Training: each batchnorm layer reports its batch statistics here, for the moving-average update. */
  bnStats?: Array<{ node: BatchNormNode; stats: BatchStatistics }>;
  /** Training: the random stream of a dropout layer's mask for this step (from seed, epoch, step). */
  dropoutRng?: (layer: string) => Random;
  /** Return the output layer's pre-activation values (only when `logitsAvailable`). */
  logits?: boolean;
  /** Run layers [0, stop) only and return that layer's input (population statistics use this). */
  stop?: number;
}

type LayerForward = (x: tf.Tensor, o: ForwardOptions, linearOutput: boolean) => tf.Tensor;

// tfjs registers variables in one global namespace, and two models in one process (experiments, tests) would
// both have a "dense/kernel": the engine name is prefixed per network; Keras names are kept beside it.
let networkCount = 0;

export class Network {
  readonly weights: WeightEntry[] = [];
  readonly batchNorms: BatchNormNode[] = [];
  /**
   * Biases of a dense/conv2d that feeds a batchnorm directly (linear activation): in training the batch mean
   * subtracts them, so they change nothing and their exact gradient is 0 (differentiating through the addition
   * gives float noise, which Adam turns into steps of about lr). Decided here for both gradient paths: training
   * never adds them (forward in training mode), their gradient is 0, and the batchnorm adds them to its batch
   * mean instead, so the moving mean is what it would have been and inference (which adds them) agrees. They stay
   * weights: saved, counted, Keras-compatible.
   */
  readonly absorbedBiases: WeightEntry[] = [];
  /** Per-sample input shape, as the model declares it (the batch tensor is [batch, ...inputShape]). */
  readonly inputShape: number[];
  readonly outputActivation: Activation;
  /**
   * Index of the layer that applies the output activation, when nothing after it changes values (so the loss
   * can be taken from its pre-activation logits); -1 otherwise.
   */
  readonly logitsLayer: number;
  readonly hasDropout: boolean;
  private readonly forwards: LayerForward[] = [];
  /** Batchnorm layer index -> the bias it absorbs (the previous layer's). */
  private readonly absorbedBy = new Map<number, WeightEntry>();
  private readonly prefix: string;

  constructor(
    readonly model: Model,
    readonly seed: number,
    kernelInitializer?: Initializer,
  ) {
    this.prefix = `nnc${++networkCount}`;
    const input = model.layers[0];
    if (!input || input.op !== "input") throw new Error(`internal: model '${model.name}' has no input layer`);
    this.inputShape = [...input.shape];
    this.outputActivation = outputActivation(model);
    this.logitsLayer = findLogitsLayer(model.layers);
    this.hasDropout = model.layers.some((l) => l.op === "dropout");
    const rng = new Random(seed);
    let shape: number[] = [...input.shape];
    model.layers.forEach((layer, index) => {
      this.forwards.push(this.lowerLayer(layer, index, shape, rng, kernelInitializer));
      shape = layer.outputShape ? (layer.outputShape.slice(1) as number[]) : shape;
    });
  }

  get trainable(): WeightEntry[] {
    return this.weights.filter((w) => w.trainable);
  }

  weight(name: string): WeightEntry | undefined {
    return this.weights.find((w) => w.name === name);
  }

  /** Runs the model on a batch [batch, ...inputShape]. Call inside tf.tidy (or a gradient function). */
  forward(x: tf.Tensor, o: ForwardOptions): tf.Tensor {
    const stop = o.stop ?? this.forwards.length;
    let y = x;
    for (let i = 0; i < stop; i++) y = this.forwards[i]!(y, o, o.logits === true && i === this.logitsLayer);
    return y;
  }

  dispose(): void {
    for (const w of this.weights) w.variable.dispose();
    this.weights.length = 0;
  }

  private variable(name: string, shape: number[], values: Float32Array, trainable: boolean): tf.Variable {
    // The initial tensor is disposed: the variable holds the data alone (the optimizer writes it in place).
    const initial = tf.tensor(values, shape, "float32");
    const v = tf.variable(initial, trainable, `${this.prefix}/${name}`);
    initial.dispose();
    this.weights.push({ name, variable: v, trainable });
    return v;
  }

  private filled(name: string, shape: number[], value: number, trainable: boolean): tf.Variable {
    return this.variable(name, shape, new Float32Array(sizeOf(shape)).fill(value), trainable);
  }

  /** A dense/conv2d bias (zeros), listed in `absorbedBiases` when the next layer is a batchnorm. */
  private bias(layer: LayerOf<"dense" | "conv2d">, index: number, units: number): tf.Variable {
    const v = this.filled(`${layer.name}/bias`, [units], 0, true);
    if (layer.activation === "linear" && this.model.layers[index + 1]?.op === "batchnorm") {
      const entry = this.weights.at(-1)!;
      this.absorbedBiases.push(entry);
      this.absorbedBy.set(index + 1, entry);
    }
    return v;
  }

  private kernel(name: string, shape: number[], init: Initializer, rng: Random): tf.Variable {
    // One stream per weight name: adding a layer does not change the others' initial values.
    return this.variable(name, shape, initialValues(init, shape, rng.fork(`init:${name}`)), true);
  }

  private lowerLayer(
    layer: Layer,
    index: number,
    inShape: number[],
    rng: Random,
    kernelOverride: Initializer | undefined,
  ): LayerForward {
    const n = layer.name;
    const channels = inShape.at(-1)!;
    switch (layer.op) {
      case "input":
        return (x) => x;
      case "flatten":
        return (x) => tf.reshape(x, [x.shape[0]!, -1]);
      case "dense": {
        const kernel = this.kernel(
          `${n}/kernel`,
          [channels, layer.units],
          kernelOverride ?? layer.kernelInitializer,
          rng,
        );
        const bias = layer.useBias ? this.bias(layer, index, layer.units) : undefined;
        const absorbed = this.absorbedBy.has(index + 1);
        return (x, o, linear) =>
          denseForward(
            x,
            kernel,
            o.training && absorbed ? undefined : bias,
            linear ? "linear" : layer.activation,
            o.training,
          );
      }
      case "conv2d": {
        const [kh, kw] = layer.kernelSize;
        const kernel = this.kernel(
          `${n}/kernel`,
          [kh, kw, channels, layer.filters],
          kernelOverride ?? layer.kernelInitializer,
          rng,
        );
        const bias = layer.useBias ? this.bias(layer, index, layer.filters) : undefined;
        const absorbed = this.absorbedBy.has(index + 1);
        return (x, o, linear) =>
          conv2dForward(
            x,
            kernel,
            o.training && absorbed ? undefined : bias,
            layer,
            linear ? "linear" : layer.activation,
            o.training,
          );
      }
      case "batchnorm": {
        const weights: BatchNormWeights = {
          movingMean: undefined as unknown as tf.Variable,
          movingVariance: undefined as unknown as tf.Variable,
        };
        // Keras' weight order: gamma, beta, moving_mean, moving_variance.
        if (layer.scale) weights.gamma = this.filled(`${n}/gamma`, [channels], 1, true);
        if (layer.center) weights.beta = this.filled(`${n}/beta`, [channels], 0, true);
        weights.movingMean = this.filled(`${n}/moving_mean`, [channels], 0, false);
        weights.movingVariance = this.filled(`${n}/moving_variance`, [channels], 1, false);
        const absorbed = this.absorbedBy.get(index);
        const node: BatchNormNode = { index, layer, weights };
        if (absorbed) node.absorbedBias = absorbed.variable;
        this.batchNorms.push(node);
        return (x, o) => {
          if (!o.training) return batchNormInference(x, weights, layer);
          const { y, stats } = batchNormTraining(x, weights, layer);
          // The batch mean of (x + bias): what the moving mean would have seen had the bias been added.
          const mean = absorbed ? (tf.add(stats.mean, absorbed.variable) as tf.Tensor1D) : stats.mean;
          o.bnStats?.push({ node, stats: { ...stats, mean } });
          return y;
        };
      }
      case "activation":
        return (x, _o, linear) => (linear ? x : applyActivation(x, layer.activation));
      case "dropout":
        return (x, o) => (o.training ? dropoutForward(x, layer, o) : x);
      case "maxpool":
        return (x) => tf.maxPool(x as tf.Tensor4D, layer.poolSize, layer.strides, layer.padding);
      case "avgpool":
        return (x) => tf.avgPool(x as tf.Tensor4D, layer.poolSize, layer.strides, layer.padding);
      case "globalavgpool":
        return (x) => tf.mean(x, [1, 2]);
      case "layernorm": {
        const gamma = layer.scale ? this.filled(`${n}/gamma`, [channels], 1, true) : undefined;
        const beta = layer.center ? this.filled(`${n}/beta`, [channels], 0, true) : undefined;
        return (x) => layerNormForward(x, gamma, beta, layer.epsilon);
      }
    }
  }
}

/**
 * The layer whose activation is the model's output activation, if only value-preserving layers (flatten, a
 * linear activation) follow it: then the loss can read that layer's logits (stable log-softmax, BCE from logits).
 */
function findLogitsLayer(layers: Layer[]): number {
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (l.op === "flatten" || (l.op === "activation" && l.activation === "linear")) continue;
    if (l.op === "dense" || l.op === "conv2d" || l.op === "activation") return i;
    return -1;
  }
  return -1;
}

/**
 * Dense: y = activation(x W + b). Under a gradient tape plain matMul + add (a fused matMul's gradient is only
 * fused with a linear activation, and computes the unused input gradient of the first layer on wasm's slow
 * transposed path); in inference the fused kernel.
 */
function denseForward(
  x: tf.Tensor,
  kernel: tf.Variable,
  bias: tf.Variable | undefined,
  activation: Activation,
  training: boolean,
): tf.Tensor {
  if (!training && fusable(activation)) {
    return tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias, activation });
  }
  const z = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  return applyActivation(bias ? tf.add(z, bias) : z, activation);
}

function conv2dForward(
  x: tf.Tensor,
  kernel: tf.Variable,
  bias: tf.Variable | undefined,
  layer: LayerOf<"conv2d">,
  activation: Activation,
  training: boolean,
): tf.Tensor {
  const x4 = x as tf.Tensor4D;
  const k = kernel as tf.Tensor4D;
  if (!training && fusable(activation)) {
    return tf.fused.conv2d({
      x: x4,
      filter: k,
      strides: layer.strides,
      pad: layer.padding,
      bias,
      activation,
    });
  }
  // Autograd's filter gradient runs the Conv2DBackpropFilter kernel src/runtime/wasm-kernels.ts adds to wasm.
  const z = tf.conv2d(x4, k, layer.strides, layer.padding);
  return applyActivation(bias ? tf.add(z, bias) : z, activation);
}

/** Inverted dropout (Keras): kept values scaled by 1/(1-rate); the mask comes from our seeded stream. */
function dropoutForward(x: tf.Tensor, layer: LayerOf<"dropout">, o: ForwardOptions): tf.Tensor {
  if (!o.dropoutRng) throw new Error(`internal: dropout '${layer.name}' in training without a mask stream`);
  return tf.mul(x, dropoutMask(x.shape, layer.rate, o.dropoutRng(layer.name)));
}

/** The mask of inverted dropout: 0 with probability `rate`, else 1/(1-rate); drawn from `rng` in element order. */
export function dropoutMask(shape: number[], rate: number, rng: Random): tf.Tensor {
  return tf.tensor(dropoutMaskValues(sizeOf(shape), rate, rng), shape, "float32");
}

/** `size` mask values in row-major order: 0 with probability `rate`, else 1 / (1 - rate). */
export function dropoutMaskValues(size: number, rate: number, rng: Random): Float32Array {
  const keep = 1 / (1 - rate);
  const mask = new Float32Array(size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < rate ? 0 : keep;
  return mask;
}

/** Keras LayerNormalization over the last axis: gamma * (x - mean) / sqrt(var + epsilon) + beta, per sample. */
function layerNormForward(
  x: tf.Tensor,
  gamma: tf.Variable | undefined,
  beta: tf.Variable | undefined,
  epsilon: number,
): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
  if (gamma) y = tf.mul(y, gamma);
  if (beta) y = tf.add(y, beta);
  return y;
}
