// Activation `elu`: x if x > 0 else exp(x) - 1 (Keras' alpha 1).
import { defineActivation, onnxUnary } from "./activation.ts";

export const elu = defineActivation({
  name: "elu",
  doc: "x if x > 0 else exp(x) - 1",
  keras: { write: "elu", read: ["elu"] },
  onnx: onnxUnary("Elu", { alpha: { float: 1 } }),
  forward: (tf, x) => tf.elu(x),
  fused: "elu",
});
