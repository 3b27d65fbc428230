// Op `maxpool1d`: 1-D max pooling over [batch, steps, channels] input (Keras MaxPooling1D). Compiled step:
// covered (src/kernels/maxpool1d.ts, maxpool's backward over a Kx1 window).
import { maxpool1dSchema, poolingOp, type MaxPool1dNode } from "./pooling.ts";

export const maxpool1d = poolingOp<MaxPool1dNode>(
  "maxpool1d",
  maxpool1dSchema,
  "max",
  { base: "max_pooling1d", className: "MaxPooling1D" },
  1,
);
