// Op `globalavgpool`: the mean over height and width, [batch, H, W, C] -> [batch, C].
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { channelsOf, imageHint, kerasCommon, NO_PARAMS, wrongRank, type OpDefinition } from "./op.ts";
import { statement } from "./keras-import.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema("globalavgpool", {}, "mean over height and width: NHWC -> NC");
export type GlobalAvgPoolNode = Static<typeof schema>;

export const globalavgpool: OpDefinition<GlobalAvgPoolNode> = {
  op: "globalavgpool",
  schema,
  signatures: [layerSignature("globalavgpool", "mean over height and width: [batch, H, W, C] -> [batch, C]")],
  build: () => ({}),
  keras: { base: "global_average_pooling2d", className: "GlobalAveragePooling2D" },
  arity: "one",
  infer(node, [x]) {
    if (x!.shape.length !== 4)
      return wrongRank(node, x!.shape, "rank-4 [batch, height, width, channels]", imageHint(x!));
    return { shape: [null, channelsOf(x!.shape)], params: NO_PARAMS };
  },
  kerasConfig: (node) => ({ ...kerasCommon(node), data_format: "channels_last" }),
  kerasWeights: () => [],
  fromKeras: {
    classNames: ["GlobalAveragePooling2D"],
    read(r) {
      r.channelsLast();
      r.expect("keepdims", [false], "nnc's globalavgpool outputs [batch, channels] (keepdims false)");
      return statement("globalavgpool", []);
    },
  },
  // GlobalAveragePool keeps H and W as 1x1: [N, C, 1, 1], flattened to nnc's [N, C].
  onnx(_node, ctx) {
    const pooled = ctx.emit("GlobalAveragePool", [ctx.input(0, "nchw").name]);
    return { name: ctx.emit("Flatten", [pooled], { axis: 1 }), layout: "nnc" };
  },
};
