// Op `globalavgpool1d`: the mean over the steps, [batch, steps, C] -> [batch, C] (Keras GlobalAveragePooling1D).
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { globalPoolingOp } from "./global-pooling.ts";

export const schema = nodeSchema(
  "globalavgpool1d",
  {},
  "mean over the steps: [batch, steps, C] -> [batch, C]",
);
export type GlobalAvgPool1dNode = Static<typeof schema>;

export const globalavgpool1d = globalPoolingOp<GlobalAvgPool1dNode>(
  "globalavgpool1d",
  schema,
  "mean",
  { base: "global_average_pooling1d", className: "GlobalAveragePooling1D" },
  1,
);
