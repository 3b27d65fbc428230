// The IR: a checked model -> the floating-point work of training it, per sample, so a benchmark can state a
// step's achieved GFLOP/s beside the machine's ceiling (issue 17). Counted as profilers and papers count it: the
// multiply-adds of the layers with a kernel, as each op module counts its own (OpDefinition.macs: a dense
// kernel once, a convolution's at every output position, a depthwise one per channel), 2 FLOPs each; a training step does each three times (forward, the input's gradient, the kernel's
// gradient), but a layer that nothing learning feeds needs no input gradient (nnc's compiled step skips it,
// src/train/manual-backward.ts), so twice. Elementwise work (activations, batchnorm, pooling, the optimizer) is
// left out: it is memory-bound and a few percent of the multiply-adds in every bench model.
import { nodesByName } from "./graph.ts";
import type { Layer, Model } from "./schema.ts";
import { opOf } from "../ops/index.ts";

/** Per-sample shape of a checked node's output. */
const perSample = (layer: Layer): number[] => (layer.outputShape ?? []).slice(1) as number[];

/** Multiply-adds of a node's forward pass, per sample, by its op's rule (0 for an op without one). */
export function forwardMacs(layer: Layer, model: Model, nodes = nodesByName(model)): number {
  const macs = opOf(layer).macs;
  if (!macs) return 0;
  return macs(
    layer,
    layer.inputs.map((name) => perSample(nodes.get(name)!)),
    perSample(layer),
  );
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
