// Lowering (inference): a checked program + trained weights -> an equivalent inference program with every
// batchnorm fed only by a node whose output is affine per channel (the op's `channelAffine` rule, src/ops/: a
// dense or convolution with no activation) folded into that node's kernel (`foldedKernel`) and bias, and the
// folded weights. Predictions equal the unfolded model's to float rounding
// (test/speed/fold-bn).
import { consumersOf, nodesByName } from "../ir/graph.ts";
import type { Layer, LayerOf, Program } from "../ir/schema.ts";
import { opOf } from "../ops/index.ts";
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
 * kernel's output channels scale by s, the bias becomes (b - mu) s + beta, and the batchnorm node goes (the
 * nodes that took its output take the folded node's). Only where the batchnorm is the producer's one consumer:
 * another consumer would need the unnormalized values. Only for inference: training needs the batch statistics.
 */
export function foldBatchNorm(
  program: Program,
  weights: Record<string, WeightData>,
  modelName?: string,
): FoldedModel {
  const index = modelName === undefined ? 0 : program.models.findIndex((m) => m.name === modelName);
  const model = program.models[index];
  if (!model) throw new Error(`no model '${modelName}' to fold`);
  const get = (name: string): WeightData => {
    const w = weights[name];
    if (!w) throw new Error(`foldBatchNorm: no weight ${name}`);
    return w;
  };
  const nodes = nodesByName(model);
  const consumers = consumersOf(model);
  /** Folded batchnorm name -> the node it folds into. */
  const into = new Map<string, Layer>();
  for (const node of model.layers) {
    if (node.op !== "batchnorm") continue;
    const producer = nodes.get(node.inputs[0]!)!;
    if (opOf(producer).channelAffine?.(producer) && consumers.get(producer.name)!.length === 1)
      into.set(node.name, producer);
  }
  const out: Record<string, WeightData> = {};
  /** The weights folding changed, by name. */
  const folded = new Map<string, WeightData>();
  const replaced = new Map<string, Layer>();
  for (const [bnName, producer] of into) {
    const bn = nodes.get(bnName) as LayerOf<"batchnorm">;
    const layer = producer as Layer & { useBias: boolean };
    const kernelName = `${layer.name}/${opOf(producer).foldedKernel ?? "kernel"}`;
    const kernel = get(kernelName);
    const mean = get(`${bn.name}/moving_mean`).data;
    const variance = get(`${bn.name}/moving_variance`).data;
    const channels = mean.length;
    const bias = layer.useBias ? get(`${layer.name}/bias`).data : new Float32Array(channels);
    const gamma = bn.scale ? get(`${bn.name}/gamma`).data : new Float32Array(channels).fill(1);
    const beta = bn.center ? get(`${bn.name}/beta`).data : new Float32Array(channels);
    // Computed in float64, rounded once.
    const scale = Array.from(
      { length: channels },
      (_, c) => gamma[c]! / Math.sqrt(variance[c]! + bn.epsilon),
    );
    const k = new Float32Array(kernel.data.length);
    for (let j = 0; j < k.length; j++) k[j] = kernel.data[j]! * scale[j % channels]!;
    const b = Float32Array.from(scale, (s, c) => (bias[c]! - mean[c]!) * s + beta[c]!);
    folded.set(kernelName, { shape: [...kernel.shape], data: k });
    folded.set(`${layer.name}/bias`, { shape: [channels], data: b });
    // The node's other weights (a separable conv's depthwise kernel) are copied below, as they are.
    const params = layer.params && {
      trainable: layer.params.trainable + (layer.useBias ? 0 : channels),
      nonTrainable: 0,
    };
    replaced.set(layer.name, {
      ...layer,
      useBias: true,
      // The folded node takes the batchnorm's place in the output: same shape.
      ...(bn.outputShape ? { outputShape: bn.outputShape } : {}),
      ...(params ? { params } : {}),
    } as Layer);
  }
  const layers: Layer[] = [];
  for (const node of model.layers) {
    if (into.has(node.name)) continue;
    const rewired = node.inputs.map((name) => into.get(name)?.name ?? name);
    layers.push({ ...(replaced.get(node.name) ?? node), inputs: rewired });
    // In the node's weight order; a bias folding added (the node had none) last, where Keras holds it.
    for (const [name, w] of Object.entries(weights)) {
      if (name.startsWith(`${node.name}/`))
        out[name] = folded.get(name) ?? { shape: [...w.shape], data: Float32Array.from(w.data) };
    }
    const bias = folded.get(`${node.name}/bias`);
    if (bias) out[`${node.name}/bias`] = bias;
  }
  const models = program.models.map((m, j) => (j === index ? { ...m, layers } : m));
  return { program: { ...program, models }, weights: out, folded: [...into.keys()] };
}
