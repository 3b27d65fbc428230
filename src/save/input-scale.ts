// Saving: the input scale of a saved model, as Keras writes it. A model trained on raw values divided by k
// (Dataset.scale: 255 for image bytes) is saved with a weightless Keras `Rescaling(scale=1/k, offset=0)` layer
// right after its input, in model.json's modelTopology, so whoever loads model.json (tf.loadLayersModel in a
// browser, nnc import, the ONNX export) feeds raw values, as nnc's own `predict --input` takes them. k = 1
// writes no layer. Both directions live here: withInputScale (writer) and inputScaleOf (reader).
import { fail } from "../diagnostics/index.ts";
import type { JsonObject } from "../ops/op.ts";

export const RESCALING_CLASS = "Rescaling";

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** A Keras layer name not already taken in the model: rescaling, rescaling_1, ... (Keras' own scheme). */
function freeName(taken: ReadonlySet<string>): string {
  if (!taken.has("rescaling")) return "rescaling";
  for (let i = 1; ; i++) if (!taken.has(`rescaling_${i}`)) return `rescaling_${i}`;
}

/** The Keras layer that divides raw inputs by k: x * (1/k) + 0, no weights. */
export function rescalingLayer(name: string, k: number): { class_name: string; config: JsonObject } {
  return {
    class_name: RESCALING_CLASS,
    config: { name, trainable: false, dtype: "float32", scale: 1 / k, offset: 0 },
  };
}

/** True for a divisor nnc can write: a finite number above 0. */
export const isInputScale = (k: unknown): k is number => typeof k === "number" && Number.isFinite(k) && k > 0;

/**
 * A modelTopology (as keras.ts' kerasTopology writes it) with `Rescaling(scale=1/k)` between the input and the
 * layers that read it: in a Sequential model the layer after the InputLayer, in a functional one a node the
 * input's consumers read instead of the input. Returns the topology itself when k is 1.
 */
export function withInputScale(topology: JsonObject, k: number): JsonObject {
  if (!isInputScale(k)) throw new Error(`input scale ${k} is not a finite number above 0`);
  if (k === 1) return topology;
  const config = topology.config as { layers: JsonObject[] } & JsonObject;
  const layers = config.layers;
  const first = layers[0];
  if (!first || first.class_name !== "InputLayer") {
    throw new Error("withInputScale: the topology does not begin with an InputLayer");
  }
  const inputName = (first.config as { name: string }).name;
  const name = freeName(new Set(layers.map((l) => String((l.config as { name?: unknown }).name ?? l.name))));
  const rescaling = rescalingLayer(name, k);
  if (topology.class_name === "Sequential") {
    return { ...topology, config: { ...config, layers: [first, rescaling, ...layers.slice(1)] } };
  }
  // Functional: the consumers of the input read the rescaling node instead (refs are [layer, node, tensor, kwargs]).
  const reroute = (nodes: unknown): unknown =>
    (nodes as unknown[][][]).map((node) =>
      node.map((ref) => (ref[0] === inputName ? [name, ...ref.slice(1)] : ref)),
    );
  const node = { name, ...rescaling, inbound_nodes: [[[inputName, 0, 0, {}]]] };
  const rest = layers.slice(1).map((l) => ({ ...l, inbound_nodes: reroute(l.inbound_nodes) }));
  return { ...topology, config: { ...config, layers: [first, node, ...rest] } };
}

/** The leading Rescaling layer of a modelTopology, as found: its name and raw config values. */
export interface LeadingRescaling {
  name: string;
  scale: unknown;
  offset: unknown;
}

/** Levels of inbound_nodes searched for references (Keras 2 and 3 use at most 5). */
const MAX_INBOUND_DEPTH = 16;

/** Layer names a layer's inbound_nodes read: Keras 2 / tfjs refs `[name, node, tensor, kwargs]`, Keras 3 `__keras_tensor__`. */
function inboundNames(layer: JsonObject): string[] {
  const names: string[] = [];
  // Keras nests a reference a few levels deep; a hostile model.json may nest 200,000 (a stack overflow, exit 70).
  const visit = (v: unknown, depth = 0): void => {
    if (depth > MAX_INBOUND_DEPTH) return;
    if (Array.isArray(v)) {
      if (typeof v[0] === "string" && typeof v[1] === "number") names.push(v[0]);
      else v.forEach((x) => visit(x, depth + 1));
    } else if (isObject(v)) {
      if (
        v.class_name === "__keras_tensor__" &&
        isObject(v.config) &&
        Array.isArray(v.config.keras_history)
      ) {
        const [name] = v.config.keras_history as unknown[];
        if (typeof name === "string") names.push(name);
      } else Object.values(v).forEach((x) => visit(x, depth + 1));
    }
  };
  visit(layer.inbound_nodes);
  return names;
}

const layerName = (layer: JsonObject): string => {
  const fromConfig = isObject(layer.config) ? layer.config.name : undefined;
  return String(layer.name ?? fromConfig ?? "");
};

const asRescaling = (layer: unknown): LeadingRescaling | undefined => {
  if (!isObject(layer) || layer.class_name !== RESCALING_CLASS) return undefined;
  const config = isObject(layer.config) ? layer.config : {};
  return { name: layerName(layer), scale: config.scale, offset: config.offset ?? 0 };
};

/**
 * The Rescaling layer a modelTopology applies to its input before anything else, or undefined: in a Sequential
 * model the first layer after the InputLayer (or the first layer), in a functional model with one input the
 * only layer reading that input. Accepts model.json's `modelTopology` in both shapes tfjs reads (with or without
 * a `model_config` wrapper) and Keras 2 and 3 JSON. Anything else (a Rescaling deeper in, or beside other
 * consumers of the input) is not an input scale and is left to whoever reads the rest.
 */
export function leadingRescaling(modelTopology: unknown): LeadingRescaling | undefined {
  let top = modelTopology;
  if (isObject(top) && isObject(top.model_config)) top = top.model_config;
  if (!isObject(top)) return undefined;
  const config = top.config;
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) return undefined;
  if (top.class_name === "Sequential") {
    const first = layers[0] as unknown;
    return asRescaling(isObject(first) && first.class_name === "InputLayer" ? layers[1] : first);
  }
  const inputs = isObject(config) && Array.isArray(config.input_layers) ? config.input_layers : [];
  if (inputs.length !== 1) return undefined;
  const input = inputs[0] as unknown;
  const inputName = Array.isArray(input) ? input[0] : undefined;
  if (typeof inputName !== "string") return undefined;
  const consumers = (layers as unknown[]).filter(
    (l): l is JsonObject => isObject(l) && inboundNames(l).includes(inputName),
  );
  return consumers.length === 1 ? asRescaling(consumers[0]) : undefined;
}

/** 1 / scale, written as the short decimal it came from where that is exact (1 / (1/255) is 255, not 255.00000000000003). */
function divisorOf(scale: number): number {
  const k = 1 / scale;
  const short = Number(k.toPrecision(12));
  return 1 / short === scale ? short : k;
}

/**
 * The input scale k of a modelTopology: the divisor its leading `Rescaling(scale=1/k, offset=0)` applies to raw
 * inputs, or 1 when there is none. A leading Rescaling of any other form (an offset, a scale that is not a
 * number above 0) is E770, naming `file`: nnc has no such input transform.
 */
export function inputScaleOf(modelTopology: unknown, file = "model.json"): number {
  const rescaling = leadingRescaling(modelTopology);
  if (!rescaling) return 1;
  const { name: layer, scale, offset } = rescaling;
  const shown = (v: unknown) => JSON.stringify(v) ?? String(v);
  if (typeof scale !== "number" || !Number.isFinite(scale) || scale <= 0) {
    return fail("E770", { file, layer, detail: `has scale=${shown(scale)}, not a number above 0` });
  }
  if (offset !== 0) {
    return fail("E770", { file, layer, detail: `has offset=${shown(offset)}` });
  }
  const k = divisorOf(scale);
  // 1/scale of a subnormal scale is Infinity: every input would be divided to 0.
  if (!isInputScale(k))
    return fail("E770", { file, layer, detail: `has scale=${shown(scale)}, whose inverse is not finite` });
  return k;
}
