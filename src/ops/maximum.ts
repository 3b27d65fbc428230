// Op `maximum`: the elementwise maximum of two or more inputs of equal shape (Keras Maximum). Written
// `maximum NAME...`: the current tensor and the outputs of the named earlier layers. Compiled step: covered
// (closed-form backward in src/kernels/maximum.ts).
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { elementwiseMerge } from "./merge.ts";

export const schema = nodeSchema(
  "maximum",
  {},
  "elementwise maximum of two or more inputs of equal shape (inputs lists them)",
);
export type MaximumNode = Static<typeof schema>;

export const maximum = elementwiseMerge<MaximumNode>({
  op: "maximum",
  schema,
  doc: "the elementwise maximum of the current tensor and the outputs of the named earlier layers (equal shapes)",
  layerDoc: "names of earlier layers whose outputs are compared with the current tensor",
  keras: { base: "maximum", className: "Maximum" },
  onnx: (xs, ctx) =>
    ctx.emit(
      "Max",
      xs.map((x) => x.name),
    ),
});
