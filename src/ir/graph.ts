// IR helpers: a model as the graph it is. Nodes are listed so that every node's inputs come before it; the
// first node is the input, the last the output. Pure functions of the IR, shared by front and back ends.
import type { Layer, Model } from "./schema.ts";

/** The model's nodes by name (the checker guarantees names are unique). */
export const nodesByName = (model: Model): Map<string, Layer> =>
  new Map(model.layers.map((l) => [l.name, l] as const));

/** Whether every node takes exactly the one before it: a chain (a Keras Sequential model). */
export const isChain = (nodes: readonly { name: string; inputs: readonly string[] }[]): boolean =>
  nodes.every((l, i) => i === 0 || (l.inputs.length === 1 && l.inputs[0] === nodes[i - 1]!.name));

/** The model's output node: the last. */
export const outputNode = (model: Model): Layer | undefined => model.layers[model.layers.length - 1];

/** For each node, the names of the nodes that take its output (in node order). */
export function consumersOf(model: Model): Map<string, string[]> {
  const out = new Map<string, string[]>(model.layers.map((l) => [l.name, []] as const));
  for (const node of model.layers) for (const input of node.inputs) out.get(input)?.push(node.name);
  return out;
}

/**
 * The IR of version 1, where a model was a chain, as a graph: every layer takes the one before it. Other
 * values pass through unchanged (the schema then says what is wrong with them).
 */
export function chainToGraph(layers: unknown): unknown {
  if (!Array.isArray(layers)) return layers;
  return layers.map((layer: unknown, i) => {
    if (typeof layer !== "object" || layer === null || Array.isArray(layer) || "inputs" in layer)
      return layer;
    const previous = layers[i - 1] as { name?: unknown } | undefined;
    const inputs = i === 0 || typeof previous?.name !== "string" ? [] : [previous.name];
    return { ...layer, inputs };
  });
}
