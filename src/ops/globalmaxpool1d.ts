// Op `globalmaxpool1d`: the maximum over the steps, [batch, steps, C] -> [batch, C] (Keras GlobalMaxPooling1D).
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { globalPoolingOp } from "./global-pooling.ts";

export const schema = nodeSchema(
  "globalmaxpool1d",
  {},
  "maximum over the steps: [batch, steps, C] -> [batch, C]",
);
export type GlobalMaxPool1dNode = Static<typeof schema>;

export const globalmaxpool1d = globalPoolingOp<GlobalMaxPool1dNode>(
  "globalmaxpool1d",
  schema,
  "maximum",
  { base: "global_max_pooling1d", className: "GlobalMaxPooling1D" },
  1,
);
