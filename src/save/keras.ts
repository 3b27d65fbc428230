// Saving: a checked IR model -> its Keras twin, as TensorFlow.js Layers JSON, and the Keras weights it expects.
// A chain is a Sequential model; a graph (residuals, concatenations) a functional model whose layers list
// their `inbound_nodes`, as Keras 2 and tfjs-layers write them. Each layer's class name and config come from
// its op module (src/ops/). tf.loadLayersModel rebuilds this model; given nnc's weights it predicts what nnc
// predicts.
import { isChain, nodesByName } from "../ir/graph.ts";
import type { Layer, Model } from "../ir/schema.ts";
import { activationOf, activationParams } from "../ops/activations/index.ts";
import { opOf } from "../ops/index.ts";
import { cls, type JsonObject, type KerasLayerJson } from "../ops/op.ts";
import type { TensorEntry } from "./blob.ts";

export type { KerasLayerJson };

/** Per-sample output shape of a checked node (its input's shape for the input node). */
function outputOf(layer: Layer): number[] {
  const out = layer.outputShape?.slice(1) ?? (layer.op === "input" ? layer.shape : undefined);
  if (!out || out.some((d) => d === null)) {
    throw new Error(`layer ${layer.name} has no checked outputShape: save a checked program`);
  }
  return out as number[];
}

/**
 * The weights Keras holds for each layer, in Keras' order (kernel, bias; gamma, beta, moving_mean,
 * moving_variance), named as Keras names them ("dense/kernel"). nnc's getWeights uses the same names.
 */
export function kerasWeights(model: Model): TensorEntry[] {
  const nodes = nodesByName(model);
  return model.layers.flatMap((layer) => {
    const inputs = layer.inputs.map((name) => outputOf(nodes.get(name)!));
    return opOf(layer)
      .kerasWeights(layer, inputs)
      .map((w) => ({ name: `${layer.name}/${w.suffix}`, shape: w.shape }));
  });
}

export function kerasLayer(layer: Layer): KerasLayerJson {
  const op = opOf(layer);
  return cls(op.kerasClass?.(layer) ?? op.keras.className, op.kerasConfig(layer));
}

/**
 * The Keras layer after a dense or convolution whose ACTIVATION tfjs-layers has no string for (leaky_relu): the
 * node writes activation "linear" (kernelConfig) and this layer, named `<node>_<base>`, applies the activation.
 */
export function activationLayerAfter(layer: Layer): KerasLayerJson | undefined {
  if (layer.op === "activation") return undefined;
  const fn = opOf(layer).activation?.(layer);
  const extra = fn === undefined ? undefined : activationOf(fn).keras.layer;
  if (!extra) return undefined;
  return cls(extra.className, {
    name: `${layer.name}_${extra.base}`,
    trainable: true,
    dtype: "float32",
    ...extra.config,
    ...activationParams(layer),
  });
}

/** A node's Keras layers: its own, and the activation layer after it where there is one. */
const kerasLayersOf = (layer: Layer): KerasLayerJson[] => {
  const after = activationLayerAfter(layer);
  return after ? [kerasLayer(layer), after] : [kerasLayer(layer)];
};

/** The Keras layer whose output is the node's: the activation layer after it, if any. */
const outputLayerName = (layer: Layer): string =>
  (activationLayerAfter(layer)?.config["name"] as string | undefined) ?? layer.name;

/**
 * The `modelTopology` of model.json: a Keras Sequential model for a chain, else a functional one (Keras 2's
 * dialect, which tfjs-layers reads: `inbound_nodes` as [[layer, node index, tensor index, kwargs], ...]).
 */
export function kerasTopology(model: Model, generatedBy: string): JsonObject {
  const header = { keras_version: generatedBy, backend: "tensor_flow.js" };
  if (isChain(model.layers) && model.layers.every((l) => !opOf(l).kerasLayers)) {
    return {
      class_name: "Sequential",
      config: { name: model.name, layers: model.layers.flatMap(kerasLayersOf) },
      ...header,
    };
  }
  const nodes = nodesByName(model);
  // A node's output is its activation layer's where one follows it; a name of no node (a layer of an op's own
  // kerasLayers) is as it is.
  const ref = (name: string) => {
    const node = nodes.get(name);
    return [node ? outputLayerName(node) : name, 0, 0];
  };
  const input = model.layers[0]!;
  const output = model.layers[model.layers.length - 1]!;
  const inbound = (inputs: string[]) =>
    inputs.length === 0 ? [] : [inputs.map((name) => [...ref(name), {}])];
  const layers = model.layers.flatMap((layer) => {
    const several = opOf(layer).kerasLayers?.(layer);
    if (several) {
      return several.map(({ name, inputs, ...json }) => ({ name, ...json, inbound_nodes: inbound(inputs) }));
    }
    const own = { name: layer.name, ...kerasLayer(layer), inbound_nodes: inbound(layer.inputs) };
    const after = activationLayerAfter(layer);
    if (!after) return [own];
    const name = after.config["name"] as string;
    return [own, { name, ...after, inbound_nodes: [[[layer.name, 0, 0, {}]]] }];
  });
  return {
    class_name: "Functional",
    config: { name: model.name, layers, input_layers: [ref(input.name)], output_layers: [ref(output.name)] },
    ...header,
  };
}
