// The IR: a checked model -> the floating-point work of training it, per sample, so a benchmark can state a
// step's achieved GFLOP/s beside the machine's ceiling (issue 17). Counted as profilers and papers count it: the
// multiply-adds of the layers with a kernel (dense, conv2d: a dense layer is a 1x1 convolution over one
// position), 2 FLOPs each; a training step does each three times (forward, the input's gradient, the kernel's
// gradient), but a layer that nothing learning feeds needs no input gradient (nnc's compiled step skips it,
// src/train/manual-backward.ts), so twice. Elementwise work (activations, batchnorm, pooling, the optimizer) is
// left out: it is memory-bound and a few percent of the multiply-adds in every bench model.
import { nodesByName } from "./graph.ts";
import type { Layer, Model } from "./schema.ts";
import { opOf } from "../ops/index.ts";
import { sizeOf } from "../util/shape.ts";

/** Per-sample shape of a checked node's output. */
const perSample = (layer: Layer): number[] => (layer.outputShape ?? []).slice(1) as number[];

/**
 * Multiply-adds of a node's forward pass, per sample: its kernel's size times the output positions it is applied
 * at (the output's values over its channels, the kernel's last axis). 0 for a node without a kernel.
 */
export function forwardMacs(layer: Layer, model: Model, nodes = nodesByName(model)): number {
  const inputs = layer.inputs.map((name) => perSample(nodes.get(name)!));
  const kernel = opOf(layer)
    .kerasWeights(layer, inputs)
    .find((w) => w.suffix === "kernel");
  if (!kernel) return 0;
  const out = perSample(layer);
  const channels = kernel.shape[kernel.shape.length - 1]!;
  return sizeOf(kernel.shape) * (sizeOf(out) / channels);
}

export interface TrainingFlops {
  /** FLOPs of one training sample (forward and backward). */
  perSample: number;
  /** FLOPs of one inference sample (forward only). */
  forwardPerSample: number;
}

/** The FLOPs of training and of inference, per sample, of a checked model (see the file's header). */
export function trainingFlops(model: Model): TrainingFlops {
  const nodes = nodesByName(model);
  // Whether a node's value depends on something that learns: then a kernel feeding on it needs its input's gradient.
  const learns = new Map<string, boolean>();
  let perSampleFlops = 0;
  let forward = 0;
  for (const layer of model.layers) {
    const upstream = layer.inputs.some((name) => learns.get(name));
    const trainable = (layer.params?.trainable ?? 0) > 0;
    learns.set(layer.name, upstream || trainable);
    const macs = forwardMacs(layer, model, nodes);
    forward += 2 * macs;
    perSampleFlops += 2 * macs * (upstream ? 3 : 2);
  }
  return { perSample: perSampleFlops, forwardPerSample: forward };
}
