// Activation `softplus`: log(1 + exp(x)).
import { defineActivation, onnxUnary } from "./activation.ts";

export const softplus = defineActivation({
  name: "softplus",
  doc: "log(1 + exp(x))",
  keras: { write: "softplus", read: ["softplus"] },
  onnx: onnxUnary("Softplus"),
  forward: (tf, x) => tf.softplus(x),
  // sigmoid(x).
  grad: (tf, { dy, x }) => tf.mul(dy, tf.sigmoid(x)),
});
