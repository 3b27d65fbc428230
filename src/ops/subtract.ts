// Op `subtract`: the current tensor minus the output of one named earlier layer, of equal shape (Keras
// Subtract: exactly two inputs). Compiled step: covered (src/kernels/subtract.ts: dy and -dy).
// Keras export: tfjs-layers 4.22 has no Subtract class, so tf.loadLayersModel could not load one; nnc writes
// a - b as Keras' Add of a and a Rescaling(scale=-1, offset=0) of b, named `<name>_negated` (the Add takes
// the node's name), which it loads and predicts equally. nnc import reads that pair back as one subtract, and
// reads Keras' own Subtract class too.
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { elementwiseMerge } from "./merge.ts";
import { cls, kerasCommon, type KerasGraphLayer } from "./op.ts";

export const schema = nodeSchema(
  "subtract",
  {},
  "elementwise difference of two inputs of equal shape, the first minus the second (inputs lists them)",
);
export type SubtractNode = Static<typeof schema>;

/** The name of the Rescaling(-1) layer the Keras export negates the second input with. */
const negated = (name: string) => `${name}_negated`;

export const subtract = {
  ...elementwiseMerge<SubtractNode>({
    op: "subtract",
    schema,
    doc:
      "the current tensor minus the output of the named earlier layer (equal shapes; Keras Subtract, exported " +
      "as Add of the current tensor and a Rescaling(scale=-1) of the other, which tfjs-layers loads)",
    layerDoc: "name of the earlier layer whose output is subtracted from the current tensor",
    keras: { base: "subtract", className: "Subtract" },
    pair: true,
    onnx: ([a, b], ctx) => ctx.emit("Sub", [a!.name, b!.name]),
  }),
  kerasLayers: (node: SubtractNode): KerasGraphLayer[] => {
    const [a, b] = node.inputs as [string, string];
    const negation = {
      name: negated(node.name),
      ...cls("Rescaling", { ...kerasCommon(node), name: negated(node.name), scale: -1, offset: 0 }),
      inputs: [b],
    };
    return [negation, { name: node.name, ...cls("Add", kerasCommon(node)), inputs: [a, negation.name] }];
  },
};

/** A Keras layer as nnc import reads it: name, class, config, inputs. */
interface GraphLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inputs: string[];
}

/**
 * nnc import: the layers with every Add(a, Rescaling(scale=-1, offset=0)(b)) whose Rescaling only that Add reads
 * (subtract's Keras export) read as one Keras Subtract(a, b), named as the Add; the Rescaling is dropped.
 */
export function readSubtractions<L extends GraphLayer>(layers: L[]): L[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const readers = new Map<string, number>();
  for (const l of layers) for (const i of l.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const negation = (name: string) => {
    const l = byName.get(name);
    const { scale, offset } = l?.config ?? {};
    const negates = scale === -1 && (offset === undefined || offset === 0);
    return l?.className === "Rescaling" && negates && l.inputs.length === 1 && readers.get(name) === 1
      ? l
      : undefined;
  };
  const dropped = new Set<string>();
  const read = layers.map((l) => {
    if (l.className !== "Add" || l.inputs.length !== 2) return l;
    const [a, b] = l.inputs as [string, string];
    const [kept, neg] = negation(b) ? [a, negation(b)!] : negation(a) ? [b, negation(a)!] : [];
    if (!neg || kept === undefined) return l;
    dropped.add(neg.name);
    return { ...l, className: "Subtract", inputs: [kept, neg.inputs[0]!] };
  });
  return read.filter((l) => !dropped.has(l.name));
}
