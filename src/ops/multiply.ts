// Op `multiply`: the elementwise product of two or more inputs of equal shape (Keras Multiply). Written
// `multiply NAME...`: the current tensor and the outputs of the named earlier layers. Compiled step: covered
// (closed-form backward in src/kernels/multiply.ts).
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { elementwiseMerge } from "./merge.ts";

export const schema = nodeSchema(
  "multiply",
  {},
  "elementwise product of two or more inputs of equal shape (inputs lists them)",
);
export type MultiplyNode = Static<typeof schema>;

export const multiply = elementwiseMerge<MultiplyNode>({
  op: "multiply",
  schema,
  doc: "the current tensor times the outputs of the named earlier layers (equal shapes)",
  layerDoc: "names of earlier layers whose outputs multiply the current tensor",
  keras: { base: "multiply", className: "Multiply" },
  // ONNX Mul takes two inputs: a chain of them, in the order the kernel multiplies.
  onnx: (xs, ctx) => xs.slice(1).reduce((acc, x) => ctx.emit("Mul", [acc, x.name]), xs[0]!.name),
});
