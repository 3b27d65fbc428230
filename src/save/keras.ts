// Saving: a checked IR model -> its Keras twin, as TensorFlow.js Layers JSON, and the Keras weights it expects.
// A chain is a Sequential model; a graph (residuals, concatenations) a functional model whose layers list
// their `inbound_nodes`, as Keras 2 and tfjs-layers write them. Each layer's class name and config come from
// its op module (src/ops/). tf.loadLayersModel rebuilds this model; given nnc's weights it predicts what nnc
// predicts.
import { isChain, nodesByName } from "../ir/graph.ts";
import type { Layer, Model } from "../ir/schema.ts";
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
  return cls(op.keras.className, op.kerasConfig(layer));
}

/**
 * The `modelTopology` of model.json: a Keras Sequential model for a chain, else a functional one (Keras 2's
 * dialect, which tfjs-layers reads: `inbound_nodes` as [[layer, node index, tensor index, kwargs], ...]).
 */
export function kerasTopology(model: Model, generatedBy: string): JsonObject {
  const header = { keras_version: generatedBy, backend: "tensor_flow.js" };
  if (isChain(model.layers) && model.layers.every((l) => !opOf(l).kerasLayers)) {
    return {
      class_name: "Sequential",
      config: { name: model.name, layers: model.layers.map(kerasLayer) },
      ...header,
    };
  }
  const ref = (name: string) => [name, 0, 0];
  const input = model.layers[0]!;
  const output = model.layers[model.layers.length - 1]!;
  const inbound = (inputs: string[]) =>
    inputs.length === 0 ? [] : [inputs.map((name) => [...ref(name), {}])];
  const layers = model.layers.flatMap((layer) => {
    const several = opOf(layer).kerasLayers?.(layer);
    if (several) {
      return several.map(({ name, inputs, ...json }) => ({ name, ...json, inbound_nodes: inbound(inputs) }));
    }
    return [{ name: layer.name, ...kerasLayer(layer), inbound_nodes: inbound(layer.inputs) }];
  });
  return {
    class_name: "Functional",
    config: { name: model.name, layers, input_layers: [ref(input.name)], output_layers: [ref(output.name)] },
    ...header,
  };
}
