// Op `avgpool1d`: 1-D average pooling over [batch, steps, channels] input (Keras AveragePooling1D). Not in the
// compiled step, as avgpool is not: a network with it trains by autograd.
import { avgpool1dSchema, poolingOp, type AvgPool1dNode } from "./pooling.ts";

export const avgpool1d = poolingOp<AvgPool1dNode>(
  "avgpool1d",
  avgpool1dSchema,
  "average",
  { base: "average_pooling1d", className: "AveragePooling1D" },
  1,
);
