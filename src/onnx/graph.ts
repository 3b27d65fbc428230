// ONNX export: a checked IR model + its trained weights -> an ONNX model (opset 17, IR version 8) as plain data
// (src/onnx/proto.ts writes its bytes). Batchnorm is folded into the dense/conv2d before it as in nnc's inference
// export (src/lower/fold-bn.ts); then the graph is walked node by node and each node's op module writes its ONNX
// nodes (OpDefinition.onnx, src/ops/), through the context here, which tracks each tensor's layout.
//
// Layout: the ONNX model takes what nnc takes, NHWC images ([batch, 28, 28, 1]), raw (divided by the input scale
// inside), so a user feeds it the arrays nnc's predict reads. Conv and pooling are NCHW in ONNX: a Transpose
// turns a tensor to NCHW where the first such op needs it, and back to NHWC where an op needs nnc's order
// (flatten, whose order the dense kernel after it was trained on; layernorm; the output). Runtimes fold the
// transpose at the input into the first convolution.
import { fail } from "../diagnostics/index.ts";
import { outputActivation } from "../ir/loss-rules.ts";
import type { Activation, Layer, Program } from "../ir/schema.ts";
import { foldBatchNorm } from "../lower/fold-bn.ts";
import { opOf } from "../ops/index.ts";
import type { OnnxAttribute, OnnxContext, OnnxLayout, OnnxValue, OnnxWeight } from "../ops/onnx.ts";
import type { OpDefinition } from "../ops/op.ts";
import {
  ATTRIBUTE_TYPE,
  DATA_TYPE,
  type AttributeProto,
  type Dim,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./proto.ts";

/** The opset nnc writes: 17, the first with LayerNormalization (so layernorm is one node). */
export const ONNX_OPSET = 17;
/** ONNX IR version 8 (ONNX 1.12), the IR of opset 17: what runtimes from onnxruntime 1.12 on read. */
export const ONNX_IR_VERSION = 8;
/** The name of the batch axis in the graph's input and output shapes. */
export const BATCH_DIM = "batch";
/** protobuf's limit on one message: a .onnx file larger than this cannot be read without external data. */
export const MAX_ONNX_BYTES = 2 ** 31 - 1;

const PERM = { toNchw: [0, 3, 1, 2], toNnc: [0, 2, 3, 1] };

export interface OnnxGraphOptions {
  /** Raw samples are divided by this at the input (Dataset.scale; 255 for image bytes). Default 1: none. */
  inputScale?: number;
  /** Fold batchnorm into the dense/conv2d before it where nnc's inference export does (default true). */
  foldBatchNorm?: boolean;
  /** nnc's version, written as the model's producer_version. */
  producerVersion: string;
  /** The largest file written (test hook; default MAX_ONNX_BYTES, protobuf's limit). */
  maxBytes?: number;
  /** The ONNX rule of a node's op (test hook; default: the op module's `onnx`). */
  ruleOf?: (node: Layer) => OpDefinition["onnx"];
}

/** What the export wrote, for the CLI's report and the API's callers. */
export interface OnnxModelInfo {
  opset: number;
  irVersion: number;
  input: { name: string; shape: Array<number | string>; layout: string };
  /** The output, and the activation it ends with (softmax: probabilities, linear: logits or scores). */
  output: { name: string; shape: Array<number | string>; activation: Activation };
  inputScale: number;
  /** The batchnorm layers folded into the layer before them. */
  folded: string[];
  /** ONNX nodes, by operator. */
  operators: Record<string, number>;
}

export interface OnnxGraph {
  model: ModelProto;
  info: OnnxModelInfo;
}

/** float32 values as onnx.proto3's raw_data holds them: little-endian, whatever this machine's order. */
const float32Bytes = (values: ArrayLike<number>): Uint8Array => {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
};

function attribute(name: string, value: OnnxAttribute): AttributeProto {
  if (typeof value === "string")
    return { name, type: ATTRIBUTE_TYPE.string, s: new TextEncoder().encode(value) };
  if (typeof value === "number") return { name, type: ATTRIBUTE_TYPE.int, i: value };
  if (Array.isArray(value)) return { name, type: ATTRIBUTE_TYPE.ints, ints: value };
  if ("float" in value) return { name, type: ATTRIBUTE_TYPE.float, f: value.float };
  return { name, type: ATTRIBUTE_TYPE.floats, floats: value.floats };
}

const tensorInfo = (name: string, dims: Array<number | string>, doc?: string): ValueInfoProto => ({
  name,
  ...(doc ? { doc_string: doc } : {}),
  type: {
    tensor_type: {
      elem_type: DATA_TYPE.float,
      shape: {
        dim: dims.map((d): Dim => (typeof d === "number" ? { dim_value: d } : { dim_param: d })),
      },
    },
  },
});

/** Per-sample output shape of a checked node. */
function perSample(layer: Layer): number[] {
  const shape = layer.outputShape?.slice(1);
  if (!shape || shape.some((d) => d === null))
    throw new Error(`internal: layer ${layer.name} has no checked output shape`);
  return shape as number[];
}

/**
 * The ONNX model of `program`'s model (a saved program holds one) with `weights` (Keras names), as plain data.
 * Fails with E760 for an op without an ONNX rule, E761 past protobuf's 2 GiB.
 */
export function buildOnnxGraph(
  program: Program,
  weights: Record<string, OnnxWeight>,
  options: OnnxGraphOptions,
): OnnxGraph {
  const inputScale = options.inputScale ?? 1;
  const fold = options.foldBatchNorm ?? true;
  const prepared = fold
    ? foldBatchNorm(program, weights)
    : { program, weights: { ...weights }, folded: [] as string[] };
  const model = prepared.program.models[0]!;
  const ruleOf = options.ruleOf ?? ((node: Layer) => opOf(node).onnx?.bind(opOf(node)));

  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const inputs: ValueInfoProto[] = [];
  const taken = new Set<string>();
  const values = new Map<string, OnnxValue>();
  const shapes = new Map<string, number[]>();
  /** Transposes made: tensor name -> its other layout's tensor. */
  const transposed = new Map<string, string>();
  let weightBytes = 0;

  /** `base`, or `base_1`, `base_2`, ... : the first name no tensor or node has taken. */
  const unique = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const addNode = (
    opType: string,
    ins: string[],
    base: string,
    attrs: Record<string, OnnxAttribute> = {},
  ) => {
    const name = unique(base);
    const attributeList = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    nodes.push({
      name,
      op_type: opType,
      input: ins,
      output: [name],
      ...(attributeList.length > 0 ? { attribute: attributeList } : {}),
    });
    return name;
  };
  const addInitializer = (base: string, dims: number[], values: ArrayLike<number>) => {
    const name = unique(base);
    const raw = float32Bytes(values);
    weightBytes += raw.byteLength;
    initializers.push({ name, dims, data_type: DATA_TYPE.float, raw_data: raw });
    return name;
  };
  const addInts = (base: string, values: readonly number[]) => {
    const name = unique(base);
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    initializers.push({ name, dims: [values.length], data_type: DATA_TYPE.int64, raw_data: raw });
    return name;
  };
  /** `value` in `layout` (rank-4 tensors only; others are always "nnc"). */
  const inLayout = (value: OnnxValue, layout: OnnxLayout, rank: number): OnnxValue => {
    if (rank !== 4 || value.layout === layout) return value;
    let name = transposed.get(value.name);
    if (!name) {
      const perm = layout === "nchw" ? PERM.toNchw : PERM.toNnc;
      name = addNode("Transpose", [value.name], `${value.name}/to_${layout}`, { perm });
      transposed.set(value.name, name);
      transposed.set(name, value.name);
    }
    return { name, layout };
  };

  for (const node of model.layers) {
    const rule = ruleOf(node);
    const op = opOf(node);
    if (!rule) {
      fail("E760", { layer: node.name, op: node.op, keras: op.keras.className });
    }
    const inputShapes = node.inputs.map((name) => shapes.get(name)!);
    const inputValues = node.inputs.map((name) => values.get(name)!);
    const ctx: OnnxContext = {
      input(i, layout) {
        const value = inputValues[i]!;
        return layout === "any" ? value : inLayout(value, layout, inputShapes[i]!.length + 1);
      },
      inputsAlike() {
        const layout = inputValues[0]!.layout;
        return inputValues.map((v, i) => inLayout(v, layout, inputShapes[i]!.length + 1));
      },
      inputShape: (i) => [...inputShapes[i]!],
      outputShape: () => perSample(node),
      weight(suffix) {
        const w = prepared.weights[`${node.name}/${suffix}`];
        if (!w) throw new Error(`internal: no weight ${node.name}/${suffix} to export`);
        return w;
      },
      inputScale,
      graphInput(shape) {
        const name = unique(node.name);
        inputs.push(tensorInfo(name, [BATCH_DIM, ...shape]));
        return name;
      },
      constant: (suffix, dims, data) => addInitializer(`${node.name}/${suffix}`, dims, data),
      ints: (suffix, values) => addInts(`${node.name}/${suffix}`, values),
      emit: (opType, ins, attrs) => addNode(opType, ins, `${node.name}/${opType}`, attrs),
    };
    values.set(node.name, rule(node, ctx));
    shapes.set(node.name, node.op === "input" ? [...node.shape] : perSample(node));
  }

  const last = model.layers[model.layers.length - 1]!;
  const outputShape = shapes.get(last.name)!;
  let output = inLayout(values.get(last.name)!, "nnc", outputShape.length + 1).name;
  // The graph's output is named after nnc's output layer: its producing node renamed, or an Identity where the
  // tensor is also the graph's input or feeds another node.
  const producer = nodes.find((n) => n.output[0] === output);
  const consumed = nodes.some((n) => n.input.includes(output));
  if (output !== last.name) {
    if (producer && !consumed && !taken.has(last.name)) {
      taken.add(last.name);
      producer.output[0] = last.name;
      output = last.name;
    } else {
      output = addNode("Identity", [output], last.name);
    }
  }
  if (weightBytes > (options.maxBytes ?? MAX_ONNX_BYTES)) {
    fail("E761", { model: model.name, size: `${(weightBytes / 2 ** 30).toFixed(2)} GiB` });
  }

  const inputLayer = model.layers[0]!;
  const inputDims = [BATCH_DIM, ...(inputLayer.op === "input" ? inputLayer.shape : [])];
  const rank4 = inputDims.length === 4;
  const layout = rank4 ? "NHWC" : inputDims.length === 2 ? "[batch, features]" : "nnc's input shape";
  const scaleDoc = inputScale === 1 ? "" : `, raw: the model divides them by ${inputScale}`;
  const inputDoc = `samples as nnc takes them, ${layout}${scaleDoc}`;
  inputs[0]!.doc_string = inputDoc;
  const operators: Record<string, number> = {};
  for (const n of nodes) operators[n.op_type] = (operators[n.op_type] ?? 0) + 1;
  const outputDims = [BATCH_DIM, ...outputShape];
  return {
    model: {
      ir_version: ONNX_IR_VERSION,
      opset_import: [{ domain: "", version: ONNX_OPSET }],
      producer_name: "nnc",
      producer_version: options.producerVersion,
      doc_string: `${model.name}, exported by nnc ${options.producerVersion}; input: ${inputDoc}`,
      graph: {
        name: model.name,
        node: nodes,
        initializer: initializers,
        input: inputs,
        output: [tensorInfo(output, outputDims)],
      },
      metadata_props: [
        { key: "nnc.input_layout", value: rank4 ? "NHWC" : "nnc" },
        { key: "nnc.input_scale", value: String(inputScale) },
        ...(prepared.folded.length > 0
          ? [{ key: "nnc.folded_batchnorm", value: prepared.folded.join(",") }]
          : []),
      ],
    },
    info: {
      opset: ONNX_OPSET,
      irVersion: ONNX_IR_VERSION,
      input: { name: inputs[0]!.name, shape: inputDims, layout: rank4 ? "NHWC" : "nnc" },
      output: { name: output, shape: outputDims, activation: outputActivation(model) },
      inputScale,
      folded: prepared.folded,
      operators,
    },
  };
}
