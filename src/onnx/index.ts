// ONNX export (nnc export DIR --format onnx): the public surface of src/onnx/.
export {
  exportOnnx,
  onnxOutputPath,
  writeOnnx,
  ONNX_FILE,
  type ExportOnnxOptions,
  type OnnxExport,
} from "./export.ts";
export {
  buildOnnxGraph,
  ONNX_OPSET,
  ONNX_IR_VERSION,
  type OnnxGraphOptions,
  type OnnxModelInfo,
} from "./graph.ts";
export { encodeModel, decodeModel, type ModelProto } from "./proto.ts";
