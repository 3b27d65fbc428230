// ONNX export, last step: a model as plain data (the fields of onnx.proto3's messages, snake_case as the schema
// spells them) <-> the bytes of a .onnx file, by protobufjs from ONNX's own schema. The schema is
// schema/onnx/onnx.proto3, vendored from onnx/onnx v1.12.0 (IR version 8, the release that added opset 17;
// Apache-2.0, its licence beside it), read and parsed once, at the first export: nnc writes no protobuf bytes
// by hand.
import { existsSync, readFileSync } from "node:fs";
import protobuf from "protobufjs";

/** onnx.proto3's TensorProto.DataType values nnc writes. */
export const DATA_TYPE = { float: 1, int64: 7 } as const;
/** onnx.proto3's AttributeProto.AttributeType values nnc writes. */
export const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

export interface TensorProto {
  name: string;
  dims: number[];
  data_type: number;
  /** Little-endian values, as onnx.proto3 stores raw_data. */
  raw_data: Uint8Array;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface NodeProto {
  name: string;
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute?: AttributeProto[];
}

/** A dimension: a size, or a name for a size given at run time (the batch). */
export type Dim = { dim_value: number } | { dim_param: string };

export interface ValueInfoProto {
  name: string;
  doc_string?: string;
  type: { tensor_type: { elem_type: number; shape: { dim: Dim[] } } };
}

export interface GraphProto {
  name: string;
  doc_string?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}

export interface ModelProto {
  ir_version: number;
  opset_import: Array<{ domain: string; version: number }>;
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphProto;
  metadata_props?: Array<{ key: string; value: string }>;
}

/** The vendored schema: beside src/ in a checkout, two folders further up from dist/src/onnx/ in a build. */
function schemaFile(): URL {
  const candidates = ["../../schema/onnx/onnx.proto3", "../../../schema/onnx/onnx.proto3"].map(
    (p) => new URL(p, import.meta.url),
  );
  const found = candidates.find((url) => existsSync(url));
  if (!found) throw new Error(`the ONNX schema schema/onnx/onnx.proto3 is missing from this install of nnc`);
  return found;
}

let modelType: protobuf.Type | undefined;

/** onnx.ModelProto, parsed from the schema once; field names kept as the schema spells them. */
function modelProto(): protobuf.Type {
  if (!modelType) {
    const { root } = protobuf.parse(readFileSync(schemaFile(), "utf8"), { keepCase: true });
    modelType = root.lookupType("onnx.ModelProto");
  }
  return modelType;
}

/** The .onnx bytes of a model; a model that does not fit the schema is a bug in the exporter. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProto();
  const problem = type.verify(model);
  if (problem) throw new Error(`internal: the ONNX model does not fit onnx.proto3: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** A .onnx file's model as plain data (64-bit integers as numbers), for tests and tools. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProto();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as ModelProto;
}
