// Activation `sigmoid`: 1 / (1 + exp(-x)).
import { defineActivation, onnxUnary } from "./activation.ts";

export const sigmoid = defineActivation({
  name: "sigmoid",
  doc: "1 / (1 + exp(-x))",
  keras: { write: "sigmoid", read: ["sigmoid"] },
  onnx: onnxUnary("Sigmoid"),
  forward: (tf, x) => tf.sigmoid(x),
  fused: "sigmoid",
  // From the output: y (1 - y).
  grad: (tf, { dy, y }) => tf.mul(dy, tf.mul(y, tf.sub(1, y))),
});
