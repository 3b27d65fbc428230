// Activation `exponential`: exp(x). Keras has it ('exponential'); tfjs-layers 4.22 does not, so a model using it
// exports a model.json that Keras reads and tf.loadLayersModel refuses (lint W420 says so).
import { defineActivation, onnxUnary } from "./activation.ts";

export const exponential = defineActivation({
  name: "exponential",
  doc: "exp(x)",
  keras: { write: "exponential", read: ["exponential"], tfjs: false },
  onnx: onnxUnary("Exp"),
  forward: (tf, x) => tf.exp(x),
  // The output itself.
  grad: (tf, { dy, y }) => tf.mul(dy, y),
});
