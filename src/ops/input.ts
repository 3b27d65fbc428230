// Op `input`: the model's input, per-sample shape without the batch (28x28x1 for NHWC images, 784 for vectors).
import { Type, type Static } from "@sinclair/typebox";
import { nodeSchema, PositiveInt } from "../ir/common.ts";
import { NO_PARAMS, type OpDefinition } from "./op.ts";
import { statement } from "./keras-import.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "input",
  { shape: Type.Array(PositiveInt("dimension"), { minItems: 1, description: "per-sample shape, no batch" }) },
  "model input; 28x28x1 for images (NHWC), 784 for vectors",
);
export type InputNode = Static<typeof schema>;

export const input: OpDefinition<InputNode> = {
  op: "input",
  schema,
  signatures: [
    layerSignature(
      "input",
      "model input: per-sample shape without the batch (28x28x1 for images, 784 for vectors)",
      [{ name: "DIMS", type: { kind: "dims" }, doc: "per-sample shape", required: true, field: "shape" }],
    ),
  ],
  build: (_sig, arg) => ({ shape: arg<number[]>("DIMS") }),
  keras: { base: "input_layer", className: "InputLayer" },
  arity: "none",
  infer: (node) => ({ shape: [null, ...node.shape], params: NO_PARAMS }),
  outputWithoutInput: (node) => [null, ...node.shape],
  kerasConfig: (node) => ({
    batch_input_shape: [null, ...node.shape],
    dtype: "float32",
    sparse: false,
    name: node.name,
  }),
  kerasWeights: () => [],
  // Keras 2 and tfjs write batch_input_shape, Keras 3 batch_shape; both lead with the batch (null).
  fromKeras: {
    classNames: ["InputLayer"],
    read(r) {
      const key = r.has("batch_shape") ? "batch_shape" : "batch_input_shape";
      const shape = r.config[key];
      const dims = Array.isArray(shape) ? shape.slice(1) : [];
      if (dims.length === 0 || !dims.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 1)) {
        r.problem(
          key,
          "nnc needs every per-sample dimension known (a positive integer), e.g. [null, 28, 28, 1]",
        );
      }
      r.expect("sparse", [false], "nnc's inputs are dense tensors");
      r.expect("ragged", [false], "nnc's inputs are dense tensors");
      const dtype = r.config["dtype"];
      const dtypeName =
        typeof dtype === "string" ? dtype : (dtype as { config?: { name?: unknown } } | null)?.config?.name;
      if (dtypeName !== undefined && dtypeName !== null && dtypeName !== "float32") {
        r.problem("dtype", "nnc's inputs are float32");
      }
      return statement("input", [dims.join("x")]);
    },
  },
  // The batch itself; no gradient is taken of it.
  trainingCopies: () => 1,
  // The graph input takes samples as nnc does (NHWC images), raw: divided by the input scale here, as nnc
  // divides them (x / k: Div, not Mul by 1 / k, for the same rounding).
  onnx(node, ctx) {
    const x = ctx.graphInput(node.shape);
    if (ctx.inputScale === 1) return { name: x, layout: "nnc" };
    return { name: ctx.emit("Div", [x, ctx.constant("scale", [], [ctx.inputScale])]), layout: "nnc" };
  },
};
