// Op `globalmaxpool`: the maximum over height and width, [batch, H, W, C] -> [batch, C] (Keras GlobalMaxPooling2D).
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { globalPoolingOp } from "./global-pooling.ts";

export const schema = nodeSchema("globalmaxpool", {}, "maximum over height and width: NHWC -> NC");
export type GlobalMaxPoolNode = Static<typeof schema>;

export const globalmaxpool = globalPoolingOp<GlobalMaxPoolNode>(
  "globalmaxpool",
  schema,
  "maximum",
  { base: "global_max_pooling2d", className: "GlobalMaxPooling2D" },
  2,
);
