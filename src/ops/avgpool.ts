// Op `avgpool`: 2-D average pooling over NHWC input.
import { avgpoolSchema, poolingOp, type AvgPoolNode } from "./pooling.ts";

export const avgpool = poolingOp<AvgPoolNode>(
  "avgpool",
  avgpoolSchema,
  "average",
  { base: "average_pooling2d", className: "AveragePooling2D" },
  2,
);
