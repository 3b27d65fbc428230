// Saving: a checked IR model -> its Keras twin, as TensorFlow.js Layers JSON (a Sequential model whose layers
// carry Keras class names and configs, snake_case as Keras writes them), and the Keras weights it expects.
// tf.loadLayersModel rebuilds this model; given nnc's weights it predicts what nnc predicts.
import { KERAS_NAMES } from "../ir/keras-names.ts";
import type { Initializer, Layer, LayerOf, Model } from "../ir/schema.ts";
import type { TensorEntry } from "./blob.ts";

type JsonObject = { [key: string]: unknown };
export interface KerasLayerJson {
  class_name: string;
  config: JsonObject;
}

/** Per-sample input shape of each layer (the previous layer's output), from the checker's outputShape. */
function inputShapes(model: Model): number[][] {
  const shapes: number[][] = [];
  let previous: number[] | undefined;
  for (const layer of model.layers) {
    shapes.push(previous ?? []);
    const out = layer.outputShape?.slice(1) ?? (layer.op === "input" ? layer.shape : undefined);
    if (!out || out.some((d) => d === null)) {
      throw new Error(`layer ${layer.name} has no checked outputShape: save a checked program`);
    }
    previous = out as number[];
  }
  return shapes;
}

/**
 * The weights Keras holds for each layer, in Keras' order (kernel, bias; gamma, beta, moving_mean,
 * moving_variance), named as Keras names them ("dense/kernel"). nnc's getWeights uses the same names.
 */
export function kerasWeights(model: Model): TensorEntry[] {
  const shapes = inputShapes(model);
  return model.layers.flatMap((layer, i): TensorEntry[] => {
    const inShape = shapes[i]!;
    const channels = inShape.at(-1)!;
    const w = (suffix: string, shape: number[]): TensorEntry => ({ name: `${layer.name}/${suffix}`, shape });
    switch (layer.op) {
      case "dense":
        return [w("kernel", [channels, layer.units]), ...(layer.useBias ? [w("bias", [layer.units])] : [])];
      case "conv2d":
        return [
          w("kernel", [...layer.kernelSize, channels, layer.filters]),
          ...(layer.useBias ? [w("bias", [layer.filters])] : []),
        ];
      case "batchnorm":
        return [
          ...(layer.scale ? [w("gamma", [channels])] : []),
          ...(layer.center ? [w("beta", [channels])] : []),
          w("moving_mean", [channels]),
          w("moving_variance", [channels]),
        ];
      case "layernorm":
        return [
          ...(layer.scale ? [w("gamma", [channels])] : []),
          ...(layer.center ? [w("beta", [channels])] : []),
        ];
      default:
        return [];
    }
  });
}

const cls = (class_name: string, config: JsonObject = {}): KerasLayerJson => ({
  class_name,
  config,
});

/** The config Dense and Conv2D share: activation, bias, initializers, and no regularizers or constraints. */
const kernelConfig = (layer: LayerOf<"dense"> | LayerOf<"conv2d">) => ({
  activation: layer.activation,
  use_bias: layer.useBias,
  kernel_initializer: initializer(layer.kernelInitializer),
  bias_initializer: cls("Zeros"),
  kernel_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
});

/**
 * Keras initializer config. nnc's `scale` multiplies the spread (stddev or limit); Keras' VarianceScaling
 * `scale` multiplies the variance, hence the square. Keras' *_normal initializers draw a truncated normal.
 */
function initializer(init: Initializer): KerasLayerJson {
  const s = init.scale;
  const variance = (factor: number, mode: string, distribution: string) =>
    cls("VarianceScaling", { scale: factor * s * s, mode, distribution, seed: null });
  switch (init.name) {
    case "glorot_uniform":
      return s === 1 ? cls("GlorotUniform", { seed: null }) : variance(1, "fan_avg", "uniform");
    case "glorot_normal":
      return s === 1 ? cls("GlorotNormal", { seed: null }) : variance(1, "fan_avg", "truncated_normal");
    case "he_uniform":
      return s === 1 ? cls("HeUniform", { seed: null }) : variance(2, "fan_in", "uniform");
    case "he_normal":
      return s === 1 ? cls("HeNormal", { seed: null }) : variance(2, "fan_in", "truncated_normal");
    // Keras spells these LecunUniform, tfjs LeCunUniform: VarianceScaling reads the same in both.
    case "lecun_uniform":
      return variance(1, "fan_in", "uniform");
    case "lecun_normal":
      return variance(1, "fan_in", "truncated_normal");
    case "random_normal":
      return cls("RandomNormal", { mean: 0, stddev: 0.05 * s, seed: null });
    case "random_uniform":
      return cls("RandomUniform", { minval: -0.05 * s, maxval: 0.05 * s, seed: null });
    case "zeros":
      return cls("Zeros");
  }
}

const common = (layer: Layer) => ({ name: layer.name, trainable: true, dtype: "float32" });

const pooling = (layer: LayerOf<"maxpool"> | LayerOf<"avgpool">) => ({
  ...common(layer),
  pool_size: [...layer.poolSize],
  strides: [...layer.strides],
  padding: layer.padding,
  data_format: "channels_last",
});

export function kerasLayer(layer: Layer): KerasLayerJson {
  switch (layer.op) {
    case "input":
      return cls(KERAS_NAMES.input.className, {
        batch_input_shape: [null, ...layer.shape],
        dtype: "float32",
        sparse: false,
        name: layer.name,
      });
    case "flatten":
      return cls(KERAS_NAMES.flatten.className, { ...common(layer), data_format: "channels_last" });
    case "dense":
      return cls(KERAS_NAMES.dense.className, {
        ...common(layer),
        units: layer.units,
        ...kernelConfig(layer),
      });
    case "batchnorm":
      // Differs from Keras: nnc may feed the moving variance with the unbiased batch variance (PyTorch's
      // convention). That changes only training; inference reads the stored moving statistics, as Keras does.
      return cls(KERAS_NAMES.batchnorm.className, {
        ...common(layer),
        axis: -1,
        momentum: layer.momentum,
        epsilon: layer.epsilon,
        center: layer.center,
        scale: layer.scale,
        beta_initializer: cls("Zeros"),
        gamma_initializer: cls("Ones"),
        moving_mean_initializer: cls("Zeros"),
        moving_variance_initializer: cls("Ones"),
        beta_regularizer: null,
        gamma_regularizer: null,
        beta_constraint: null,
        gamma_constraint: null,
      });
    case "activation":
      return cls(KERAS_NAMES.activation.className, { ...common(layer), activation: layer.activation });
    case "dropout":
      return cls(KERAS_NAMES.dropout.className, {
        ...common(layer),
        rate: layer.rate,
        noise_shape: null,
        seed: null,
      });
    case "conv2d":
      return cls(KERAS_NAMES.conv2d.className, {
        ...common(layer),
        filters: layer.filters,
        kernel_size: [...layer.kernelSize],
        strides: [...layer.strides],
        padding: layer.padding,
        data_format: "channels_last",
        dilation_rate: [1, 1],
        ...kernelConfig(layer),
      });
    case "maxpool":
      return cls(KERAS_NAMES.maxpool.className, pooling(layer));
    case "avgpool":
      return cls(KERAS_NAMES.avgpool.className, pooling(layer));
    case "globalavgpool":
      return cls(KERAS_NAMES.globalavgpool.className, { ...common(layer), data_format: "channels_last" });
    case "layernorm":
      return cls(KERAS_NAMES.layernorm.className, {
        ...common(layer),
        axis: -1,
        epsilon: layer.epsilon,
        center: layer.center,
        scale: layer.scale,
        beta_initializer: cls("Zeros"),
        gamma_initializer: cls("Ones"),
      });
  }
}

/** The `modelTopology` of model.json: a Keras Sequential model. */
export function kerasTopology(model: Model, generatedBy: string): JsonObject {
  return {
    class_name: "Sequential",
    config: { name: model.name, layers: model.layers.map(kerasLayer) },
    keras_version: generatedBy,
    backend: "tensor_flow.js",
  };
}
