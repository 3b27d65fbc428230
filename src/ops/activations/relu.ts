// Activation `relu`: max(x, 0).
import { defineActivation, onnxUnary } from "./activation.ts";

export const relu = defineActivation({
  name: "relu",
  doc: "max(x, 0)",
  keras: { write: "relu", read: ["relu"] },
  onnx: onnxUnary("Relu"),
  forward: (tf, x) => tf.relu(x),
  fused: "relu",
  // From the output: 1 where it is positive.
  grad: (tf, { dy, y }) => tf.mul(dy, tf.step(y)),
});
