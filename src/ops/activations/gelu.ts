// Activation `gelu`: x * Phi(x), Keras' exact form (approximate=False): 0.5 x (1 + erf(x / sqrt 2)).
import { defineActivation } from "./activation.ts";

export const gelu = defineActivation({
  name: "gelu",
  doc: "x * Phi(x), Gaussian error linear unit",
  keras: { write: "gelu", read: ["gelu"] },
  // From Mul, Erf and Add: ONNX's Gelu is opset 20.
  onnx(ctx, x) {
    const scaled = ctx.emit("Mul", [x.name, ctx.constant("gelu_sqrt1_2", [], [Math.SQRT1_2])]);
    const phi = ctx.emit("Add", [ctx.emit("Erf", [scaled]), ctx.constant("gelu_one", [], [1])]);
    return {
      name: ctx.emit("Mul", [ctx.emit("Mul", [x.name, phi]), ctx.constant("gelu_half", [], [0.5])]),
      layout: x.layout,
    };
  },
  forward: (tf, x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)),
});
