// Op `average`: the elementwise mean of two or more inputs of equal shape (Keras Average). Written
// `average NAME...`: the current tensor and the outputs of the named earlier layers. Compiled step: covered
// (closed-form backward in src/kernels/average.ts).
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { elementwiseMerge } from "./merge.ts";

export const schema = nodeSchema(
  "average",
  {},
  "elementwise mean of two or more inputs of equal shape (inputs lists them)",
);
export type AverageNode = Static<typeof schema>;

export const average = elementwiseMerge<AverageNode>({
  op: "average",
  schema,
  doc: "the elementwise mean of the current tensor and the outputs of the named earlier layers (equal shapes)",
  layerDoc: "names of earlier layers whose outputs are averaged with the current tensor",
  keras: { base: "average", className: "Average" },
  // ONNX Mean takes any number of inputs.
  onnx: (xs, ctx) =>
    ctx.emit(
      "Mean",
      xs.map((x) => x.name),
    ),
});
