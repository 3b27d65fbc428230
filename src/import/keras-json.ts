// Importing, step 1: a Keras model's JSON text -> one plain graph of layers, whatever dialect wrote it.
// Reads the TensorFlow.js Layers model.json (`format: layers-model`, `modelTopology`, itself either the model or
// `{ model_config }` as tensorflowjs_converter writes it), Keras' `model.to_json()` and a `.keras` archive's
// config.json; Sequential and Functional models; Keras 2's dialect (inbound_nodes as [[layer, node, tensor,
// kwargs], ...], batch_input_shape) and Keras 3's (inbound_nodes as { args: [__keras_tensor__ ...], kwargs },
// batch_shape, flat input_layers, module / registered_name fields). Each layer keeps the span of its name in
// the text, so every later diagnostic points at the JSON line the user can look at.
import { jsonErrorOffset } from "../compile.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import type { Span } from "../ir/common.ts";

export interface KerasLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** The layers whose outputs it takes, in order (none for the input). */
  inputs: string[];
  /** The layer's name in the JSON text (its first `"name": "..."` there). */
  span?: Span;
}

export interface KerasGraph {
  name: string;
  kind: "Sequential" | "Functional";
  /** In the order the file lists them (an order where inputs come first, as Keras writes them). */
  layers: KerasLayer[];
  input: string;
  output: string;
  kerasVersion?: string;
  /** The document's root: model.json keeps `weightsManifest` beside the topology. */
  root: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Keras 3 writes nested models and Functional as the same classes as Keras 2's Model. */
const MODEL_CLASSES = ["Sequential", "Functional", "Model"];

/** Finds where each layer's name stands in the text, in file order. */
class NameLocator {
  private cursor = 0;
  constructor(
    private readonly text: string,
    start: number,
  ) {
    this.cursor = Math.max(0, start);
  }

  find(name: string): Span | undefined {
    const pattern = new RegExp(`"name"\\s*:\\s*(${escapeRegExp(JSON.stringify(name))})`, "g");
    for (const from of [this.cursor, 0]) {
      pattern.lastIndex = from;
      const m = pattern.exec(this.text);
      if (m) {
        const start = m.index + m[0].length - m[1]!.length;
        this.cursor = start + m[1]!.length;
        return [start, start + m[1]!.length];
      }
    }
    return undefined;
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The model's topology within the document: model.json, tensorflowjs_converter's model_config, or the model. */
function topologyOf(root: Record<string, unknown>): Record<string, unknown> | string {
  let topology: unknown = root;
  if (root["modelTopology"] !== undefined) topology = root["modelTopology"];
  else if (root["format"] === "graph-model") {
    return "it is a TensorFlow.js graph model (format graph-model), which holds TensorFlow ops, not Keras layers; convert the Keras model with --output_format tfjs_layers_model";
  }
  if (isObject(topology) && isObject(topology["model_config"])) topology = topology["model_config"];
  if (!isObject(topology) || typeof topology["class_name"] !== "string") {
    return "found no model: expected a `class_name` (Sequential, Functional or Model) at the top level or under `modelTopology`";
  }
  return topology;
}

/**
 * A tensor reference in an inbound node: Keras 2 / tfjs [layer, node index, tensor index, kwargs], Keras 3
 * { class_name: "__keras_tensor__", config: { keras_history: [layer, node index, tensor index] } }.
 */
function tensorRefs(value: unknown, out: { layer: string; node: number; tensor: number }[]): boolean {
  if (isObject(value) && value["class_name"] === "__keras_tensor__") {
    const history = isObject(value["config"]) ? value["config"]["keras_history"] : undefined;
    if (!Array.isArray(history) || typeof history[0] !== "string") return false;
    out.push({ layer: history[0], node: Number(history[1] ?? 0), tensor: Number(history[2] ?? 0) });
    return true;
  }
  if (Array.isArray(value)) {
    if (typeof value[0] === "string" && typeof value[1] === "number") {
      out.push({ layer: value[0], node: value[1], tensor: Number(value[2] ?? 0) });
      return true;
    }
    return value.every((v) => tensorRefs(v, out));
  }
  return false;
}

/** `input_layers` / `output_layers`: Keras 2 [[name, 0, 0], ...], Keras 3 [name, 0, 0] for one. */
function endpointNames(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  if (typeof value[0] === "string") return [value[0]];
  const names = value.map((v) => (Array.isArray(v) && typeof v[0] === "string" ? v[0] : undefined));
  return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

/** Levels of arrays and objects a Keras model's JSON may nest. */
const MAX_JSON_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `limit` (iteratively: the check itself must not overflow). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const todo: [unknown, number][] = [[value, 0]];
  while (todo.length > 0) {
    const [v, depth] = todo.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= limit) return true;
    for (const child of Object.values(v as object)) todo.push([child, depth + 1]);
  }
  return false;
}

export function readKerasModel(
  text: string,
  file: string,
): { graph?: KerasGraph; diagnostics: Diagnostic[] } {
  const notModel = (reason: string, span?: Span) => ({
    diagnostics: [diagnostic("E740", { file, reason }, span ? { file, span } : { file })],
  });
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const at = jsonErrorOffset(text, message);
    return notModel(`it is not valid JSON (${message})`, [at, at + 1]);
  }
  if (!isObject(root)) return notModel("the JSON document is not an object");
  // Walked recursively below (references, kwargs, the weights manifest): a hostile file nested 200,000 deep
  // overflowed the stack (exit 70). Keras JSON nests about 10 levels.
  if (nestedDeeperThan(root, MAX_JSON_DEPTH))
    return notModel(`it nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
  const topology = topologyOf(root);
  if (typeof topology === "string") return notModel(topology);
  const className = topology["class_name"] as string;
  const config = topology["config"];
  const modelName =
    (isObject(config) && typeof config["name"] === "string" ? config["name"] : undefined) ?? "model";
  const wrapper = isObject(root["modelTopology"]) ? root["modelTopology"] : {};
  const kerasVersion = [topology["keras_version"], wrapper["keras_version"], root["keras_version"]].find(
    (v): v is string => typeof v === "string",
  );
  const layersStart = text.indexOf('"layers"');
  const locator = new NameLocator(text, layersStart);
  const where = (span: Span | undefined) => (span ? { file, span } : { file });
  const fail = (detail: string, span?: Span) => ({
    diagnostics: [diagnostic("E741", { model: modelName, detail }, where(span))],
  });
  if (!MODEL_CLASSES.includes(className)) {
    return notModel(`its class_name is '${className}', not Sequential, Functional or Model`);
  }
  const rawLayers = Array.isArray(config) ? config : isObject(config) ? config["layers"] : undefined;
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) return fail("its config lists no layers");

  const layers: KerasLayer[] = [];
  for (const raw of rawLayers) {
    if (!isObject(raw) || typeof raw["class_name"] !== "string") {
      return fail("a layer entry has no class_name");
    }
    const layerConfig = isObject(raw["config"]) ? raw["config"] : {};
    const name =
      typeof raw["name"] === "string"
        ? raw["name"]
        : typeof layerConfig["name"] === "string"
          ? layerConfig["name"]
          : undefined;
    if (name === undefined) return fail(`a ${raw["class_name"]} layer has no name`);
    const span = locator.find(name);
    if (MODEL_CLASSES.includes(raw["class_name"])) {
      return fail(
        `layer '${name}' is a nested ${raw["class_name"]} model; nnc imports one flat model (rebuild it ` +
          "with the nested model's layers inline)",
        span,
      );
    }
    if (layers.some((l) => l.name === name)) return fail(`two layers are named '${name}'`, span);
    layers.push({ name, className: raw["class_name"], config: layerConfig, inputs: [], span });
    if (className === "Sequential") continue;
    // Functional: one inbound node per call of the layer.
    const nodes = raw["inbound_nodes"];
    if (!Array.isArray(nodes)) return fail(`layer '${name}' has no inbound_nodes list`, span);
    if (nodes.length > 1) {
      return fail(
        `layer '${name}' is called ${nodes.length} times (shared weights); nnc's layers are each used once`,
        span,
      );
    }
    if (nodes.length === 1) {
      const node = nodes[0];
      const refs: { layer: string; node: number; tensor: number }[] = [];
      // Keras 3: { args, kwargs }; tensors among kwargs (a mask) are inputs nnc has no place for.
      const args = isObject(node) ? node["args"] : node;
      const kwargs = isObject(node) ? node["kwargs"] : undefined;
      if (!tensorRefs(args, refs) || refs.length === 0) {
        return fail(`layer '${name}' has an inbound node nnc cannot read`, span);
      }
      if (isObject(kwargs) && JSON.stringify(kwargs).includes("__keras_tensor__")) {
        return fail(
          `layer '${name}' takes a tensor as a keyword argument (a mask); nnc has no such inputs`,
          span,
        );
      }
      const other = refs.find((r) => r.node !== 0 || r.tensor !== 0);
      if (other) {
        return fail(
          `layer '${name}' takes output ${other.tensor} of call ${other.node} of '${other.layer}': nnc's layers ` +
            "have one output and are called once",
          span,
        );
      }
      layers.at(-1)!.inputs = refs.map((r) => r.layer);
    }
  }

  if (className === "Sequential") return sequential(layers, modelName, topology, root, kerasVersion, fail);
  const inputs = endpointNames(isObject(config) ? config["input_layers"] : undefined);
  const outputs = endpointNames(isObject(config) ? config["output_layers"] : undefined);
  if (!inputs || !outputs) return fail("its config has no input_layers or output_layers");
  const spanOf = (n: string) => layers.find((l) => l.name === n)?.span;
  if (inputs.length !== 1) {
    return fail(
      `it has ${inputs.length} inputs (${inputs.join(", ")}); nnc's models have one`,
      spanOf(inputs[1]!),
    );
  }
  if (outputs.length !== 1) {
    return fail(
      `it has ${outputs.length} outputs (${outputs.join(", ")}); nnc's models have one`,
      spanOf(outputs[1]!),
    );
  }
  for (const layer of layers) {
    const unknown = layer.inputs.find((n) => !layers.some((l) => l.name === n));
    if (unknown)
      return fail(`layer '${layer.name}' takes '${unknown}', which is no layer of the model`, layer.span);
  }
  for (const end of [inputs[0]!, outputs[0]!]) {
    if (!layers.some((l) => l.name === end))
      return fail(`'${end}' is named as its input or output, but no layer has that name`);
  }
  return {
    graph: {
      name: modelName,
      kind: "Functional",
      layers,
      input: inputs[0]!,
      output: outputs[0]!,
      ...(kerasVersion ? { kerasVersion } : {}),
      root,
    },
    diagnostics: [],
  };
}

/**
 * A Sequential model as a graph: a chain. Its input is its InputLayer, else the first layer's
 * batch_input_shape / input_shape (Keras 2, tfjs) or the model's build_input_shape (Keras 3), as Keras builds it.
 */
function sequential(
  layers: KerasLayer[],
  modelName: string,
  topology: Record<string, unknown>,
  root: Record<string, unknown>,
  kerasVersion: string | undefined,
  fail: (detail: string, span?: Span) => { diagnostics: Diagnostic[] },
): { graph?: KerasGraph; diagnostics: Diagnostic[] } {
  const first = layers[0]!;
  if (first.className !== "InputLayer") {
    const c = first.config;
    const config = isObject(topology["config"]) ? topology["config"] : {};
    const shape = Array.isArray(c["batch_input_shape"])
      ? c["batch_input_shape"]
      : Array.isArray(c["batch_shape"])
        ? c["batch_shape"]
        : Array.isArray(c["input_shape"])
          ? [null, ...(c["input_shape"] as unknown[])]
          : Array.isArray(config["build_input_shape"])
            ? config["build_input_shape"]
            : undefined;
    if (!shape) {
      return fail(
        "its first layer has no input shape (batch_input_shape) and there is no InputLayer: build the model " +
          "with an input shape before saving it",
        first.span,
      );
    }
    // As Keras names the input it makes for a Sequential model.
    layers.unshift({
      name: `${first.name}_input`,
      className: "InputLayer",
      config: { batch_input_shape: shape, dtype: "float32" },
      inputs: [],
      ...(first.span ? { span: first.span } : {}),
    });
  }
  for (let i = 1; i < layers.length; i++) {
    if (layers[i]!.className === "InputLayer")
      return fail(`'${layers[i]!.name}' is a second InputLayer`, layers[i]!.span);
    layers[i]!.inputs = [layers[i - 1]!.name];
  }
  return {
    graph: {
      name: modelName,
      kind: "Sequential",
      layers,
      input: layers[0]!.name,
      output: layers.at(-1)!.name,
      ...(kerasVersion ? { kerasVersion } : {}),
      root,
    },
    diagnostics: [],
  };
}
