// Op `maxpool`: 2-D max pooling over NHWC input.
import { maxpoolSchema, poolingOp, type MaxPoolNode } from "./pooling.ts";

export const maxpool = poolingOp<MaxPoolNode>(
  "maxpool",
  maxpoolSchema,
  "max",
  { base: "max_pooling2d", className: "MaxPooling2D" },
  2,
);
