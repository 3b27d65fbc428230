// Op `input`: the model's input, per-sample shape without the batch (28x28x1 for NHWC images, 784 for vectors).
import { Type, type Static } from "@sinclair/typebox";
import { nodeSchema, PositiveInt } from "../ir/common.ts";
import { NO_PARAMS, type OpDefinition } from "./op.ts";
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
  // The batch itself; no gradient is taken of it.
  trainingCopies: () => 1,
};
