// What dense and conv2d share: the Keras config of a kernel and its bias, and Keras' initializer configs.
import type { Activation, Initializer } from "../ir/common.ts";
import { optionUnlessDefault, type ImportedStatement, type KerasConfigReader } from "./keras-import.ts";
import { cls, type KerasLayerJson } from "./op.ts";
import { kerasActivationName } from "./activation.ts";

/**
 * `kernels`: the names Keras gives the layer's kernels in its config keys (`kernel_initializer`; a depthwise
 * convolution's `depthwise_initializer`, a separable one's `depthwise_` and `pointwise_`): nnc's one init= and
 * l2= apply to each.
 */
export function kernelConfig(
  node: {
    activation: Activation;
    useBias: boolean;
    kernelInitializer: Initializer;
    l2?: number;
  },
  kernels: readonly string[] = ["kernel"],
) {
  const each = (suffix: string, value: () => unknown) =>
    Object.fromEntries(kernels.map((k) => [`${k}_${suffix}`, value()]));
  return {
    activation: kerasActivationName(node.activation),
    use_bias: node.useBias,
    ...each("initializer", () => initializerConfig(node.kernelInitializer)),
    bias_initializer: cls("Zeros"),
    // Keras' L2(l2) and L1L2(l1=0, l2) compute the same l2 * sum(x^2) (keras/src/regularizers/regularizers.py);
    // L1L2 is the class tfjs-layers registers (it has no L2), so tf.loadLayersModel reads the file.
    ...each("regularizer", () => (node.l2 ? cls("L1L2", { l1: 0, l2: node.l2 }) : null)),
    bias_regularizer: null,
    activity_regularizer: null,
    ...each("constraint", () => null),
    bias_constraint: null,
  };
}

/**
 * Keras initializer config. nnc's `scale` multiplies the spread (stddev or limit); Keras' VarianceScaling
 * `scale` multiplies the variance, hence the square. Keras' *_normal initializers draw a truncated normal.
 */
export function initializerConfig(init: Initializer): KerasLayerJson {
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

/** The `l2` field a statement gives (`l2=`): absent when not given, so IR without it stays as it was. */
export const l2Arg = (arg: <T>(name: string) => T): { l2?: number } => {
  const l2 = arg<number | undefined>("l2");
  return l2 === undefined ? {} : { l2 };
};

/** The kernel initializer a statement gives (`init=`, `init_scale=`). */
export const initializerArg = (arg: <T>(name: string) => T): Initializer => ({
  name: arg<Initializer["name"]>("init"),
  scale: arg<number>("init_scale"),
});

/**
 * nnc import: what dense and conv2d read back from a kernel layer's Keras config (kernelConfig inverted): the
 * activation (positional, after the others) and the options bias=, init=, init_scale=, l2=.
 */
export function readKernelConfig(
  r: KerasConfigReader,
  positional: ImportedStatement["positional"],
  options: ImportedStatement["options"],
  kernels: readonly string[] = ["kernel"],
): void {
  const activation = r.activation();
  if (activation !== "linear") positional.push(activation);
  optionUnlessDefault(options, "bias", r.bool("use_bias", true), true);
  // nnc has one init= for all of a layer's kernels: the first's is read, and another that differs is a note.
  r.initializer(`${kernels[0]}_initializer`, options);
  for (const k of kernels.slice(1)) {
    const key = `${k}_initializer`;
    if (JSON.stringify(r.config[key]) !== JSON.stringify(r.config[`${kernels[0]}_initializer`]))
      r.note(`${key} differs from ${kernels[0]}_initializer: nnc initializes both with init=`);
  }
  const bias = r.config["bias_initializer"];
  const biasClass =
    typeof bias === "object" && bias !== null ? (bias as { class_name?: unknown }).class_name : undefined;
  if (biasClass !== undefined && biasClass !== "Zeros") {
    r.note(`bias_initializer ${String(biasClass)} is left out: nnc starts biases at zero`);
  }
  r.regularizers(options, kernels);
}
