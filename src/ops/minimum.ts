// Op `minimum`: the elementwise minimum of two or more inputs of equal shape (Keras Minimum). Written
// `minimum NAME...`: the current tensor and the outputs of the named earlier layers. Compiled step: covered
// (closed-form backward in src/kernels/minimum.ts).
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { elementwiseMerge } from "./merge.ts";

export const schema = nodeSchema(
  "minimum",
  {},
  "elementwise minimum of two or more inputs of equal shape (inputs lists them)",
);
export type MinimumNode = Static<typeof schema>;

export const minimum = elementwiseMerge<MinimumNode>({
  op: "minimum",
  schema,
  doc: "the elementwise minimum of the current tensor and the outputs of the named earlier layers (equal shapes)",
  layerDoc: "names of earlier layers whose outputs are compared with the current tensor",
  keras: { base: "minimum", className: "Minimum" },
  onnx: (xs, ctx) =>
    ctx.emit(
      "Min",
      xs.map((x) => x.name),
    ),
});
