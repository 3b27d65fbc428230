// Lowering (inference): a checked program + trained weights -> an equivalent inference program with every
// batchnorm that directly follows a dense/conv2d (linear activation in between) folded into that layer's kernel
// and bias, and the folded weights. Predictions equal the unfolded model's to float rounding (test/speed/fold-bn).
import type { Layer, Program } from "../ir/schema.ts";
import type { WeightData } from "../runtime/types.ts";

export interface FoldedModel {
  program: Program;
  weights: Record<string, WeightData>;
  /** Names of the batchnorm layers folded away. */
  folded: string[];
}

/**
 * Inference batchnorm is affine per channel: y = s (z - mu) + beta with s = gamma / sqrt(sigma2 + epsilon) and
 * mu, sigma2 the moving statistics. With z = x W + b (or a convolution), y = x (W s) + ((b - mu) s + beta): the
 * kernel's output channels scale by s, the bias becomes (b - mu) s + beta, and the batchnorm layer goes.
 * Only for inference: training needs the batch statistics. A batchnorm after anything else stays.
 */
export function foldBatchNorm(
  program: Program,
  weights: Record<string, WeightData>,
  modelName?: string,
): FoldedModel {
  const index = modelName === undefined ? 0 : program.models.findIndex((m) => m.name === modelName);
  const model = program.models[index];
  if (!model) throw new Error(`no model '${modelName}' to fold`);
  const out: Record<string, WeightData> = {};
  const layers: Layer[] = [];
  const folded: string[] = [];
  const get = (name: string): WeightData => {
    const w = weights[name];
    if (!w) throw new Error(`foldBatchNorm: no weight ${name}`);
    return w;
  };
  for (let i = 0; i < model.layers.length; i++) {
    const layer = model.layers[i]!;
    const next = model.layers[i + 1];
    const foldable =
      (layer.op === "dense" || layer.op === "conv2d") &&
      layer.activation === "linear" &&
      next?.op === "batchnorm";
    if (!foldable) {
      if (folded.includes(layer.name)) continue;
      layers.push(layer);
      for (const [name, w] of Object.entries(weights)) {
        if (name.startsWith(`${layer.name}/`))
          out[name] = { shape: [...w.shape], data: Float32Array.from(w.data) };
      }
      continue;
    }
    const bn = next as Extract<Layer, { op: "batchnorm" }>;
    const kernel = get(`${layer.name}/kernel`);
    const channels = kernel.shape.at(-1)!;
    const bias = layer.useBias ? get(`${layer.name}/bias`).data : new Float32Array(channels);
    const gamma = bn.scale ? get(`${bn.name}/gamma`).data : new Float32Array(channels).fill(1);
    const beta = bn.center ? get(`${bn.name}/beta`).data : new Float32Array(channels);
    const mean = get(`${bn.name}/moving_mean`).data;
    const variance = get(`${bn.name}/moving_variance`).data;
    // Computed in float64, rounded once.
    const scale = Array.from(
      { length: channels },
      (_, c) => gamma[c]! / Math.sqrt(variance[c]! + bn.epsilon),
    );
    const k = new Float32Array(kernel.data.length);
    for (let j = 0; j < k.length; j++) k[j] = kernel.data[j]! * scale[j % channels]!;
    const b = Float32Array.from(scale, (s, c) => (bias[c]! - mean[c]!) * s + beta[c]!);
    out[`${layer.name}/kernel`] = { shape: [...kernel.shape], data: k };
    out[`${layer.name}/bias`] = { shape: [channels], data: b };
    const params = layer.params && { trainable: kernel.data.length + channels, nonTrainable: 0 };
    layers.push({
      ...layer,
      useBias: true,
      // The folded layer takes the batchnorm's place in the output: same shape.
      ...(bn.outputShape ? { outputShape: bn.outputShape } : {}),
      ...(params ? { params } : {}),
    });
    folded.push(bn.name);
  }
  const models = program.models.map((m, j) => (j === index ? { ...m, layers } : m));
  return { program: { ...program, models }, weights: out, folded };
}
