// Activation `selu`: scale * elu(x, alpha) with Keras' (and tfjs') constants alpha = 1.6732632423543772,
// scale = 1.0507009873554805 (Klambauer et al., 2017).
import { defineActivation } from "./activation.ts";

export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;

export const selu = defineActivation({
  name: "selu",
  doc: "scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha 1.6733, scale 1.0507",
  keras: { write: "selu", read: ["selu"] },
  onnx: (ctx, x) => ({
    name: ctx.emit("Selu", [x.name], { alpha: { float: SELU_ALPHA }, gamma: { float: SELU_SCALE } }),
    layout: x.layout,
  }),
  forward: (tf, x) => tf.selu(x),
  // From the output: scale where x > 0, else y + scale * alpha (the derivative of scale * alpha * (exp(x) - 1)).
  grad: (tf, { dy, x, y }) =>
    tf.mul(dy, tf.where(tf.greater(x, 0), tf.fill(x.shape, SELU_SCALE), tf.add(y, SELU_SCALE * SELU_ALPHA))),
});
