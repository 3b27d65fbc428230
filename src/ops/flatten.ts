// Op `flatten`: each sample reshaped to a vector, [batch, ...] -> [batch, product of the rest].
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { sizeOf } from "../util/shape.ts";
import { kerasCommon, NO_PARAMS, type OpDefinition } from "./op.ts";
import { statement } from "./keras-import.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema("flatten", {}, "reshape each sample to a vector");
export type FlattenNode = Static<typeof schema>;

export const flatten: OpDefinition<FlattenNode> = {
  op: "flatten",
  schema,
  signatures: [layerSignature("flatten", "reshape each sample to a vector")],
  build: () => ({}),
  keras: { base: "flatten", className: "Flatten" },
  arity: "one",
  infer: (_node, [x]) => ({ shape: [null, sizeOf(x!.shape.slice(1))], params: NO_PARAMS }),
  kerasConfig: (node) => ({ ...kerasCommon(node), data_format: "channels_last" }),
  kerasWeights: () => [],
  fromKeras: {
    classNames: ["Flatten"],
    read(r) {
      r.channelsLast();
      return statement("flatten", []);
    },
  },
  passesValues: () => true,
  // A reshape shares its input's values (and its gradient the gradient's).
  trainingCopies: () => 0,
  // Flattened in nnc's order (NHWC: channels fastest), so an NCHW input is transposed back first: the dense
  // kernel after it reads its rows in that order.
  onnx(_node, ctx) {
    const x = ctx.input(0, "nnc");
    if (ctx.inputShape(0).length === 1) return x;
    return { name: ctx.emit("Flatten", [x.name], { axis: 1 }), layout: "nnc" };
  },
};
