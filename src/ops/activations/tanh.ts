// Activation `tanh`: the hyperbolic tangent.
import { defineActivation, onnxUnary } from "./activation.ts";

export const tanh = defineActivation({
  name: "tanh",
  doc: "hyperbolic tangent",
  keras: { write: "tanh", read: ["tanh"] },
  onnx: onnxUnary("Tanh"),
  forward: (tf, x) => tf.tanh(x),
  // From the output: 1 - y^2.
  grad: (tf, { dy, y }) => tf.mul(dy, tf.sub(1, tf.square(y))),
});
