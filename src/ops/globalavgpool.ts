// Op `globalavgpool`: the mean over height and width, [batch, H, W, C] -> [batch, C] (Keras GlobalAveragePooling2D).
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { globalPoolingOp } from "./global-pooling.ts";

export const schema = nodeSchema("globalavgpool", {}, "mean over height and width: NHWC -> NC");
export type GlobalAvgPoolNode = Static<typeof schema>;

export const globalavgpool = globalPoolingOp<GlobalAvgPoolNode>(
  "globalavgpool",
  schema,
  "mean",
  { base: "global_average_pooling2d", className: "GlobalAveragePooling2D" },
  2,
);
