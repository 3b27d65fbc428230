// Activation `leaky_relu`: x if x > 0 else alpha * x, alpha 0.3 by default: Keras 2's and tfjs-layers'
// LeakyReLU default (Keras 3's LeakyReLU layer keeps 0.3 as negative_slope; its leaky_relu function defaults to
// 0.2). Another alpha: `leaky_relu alpha=0.1`, or beside the word, `dense 128 leaky_relu alpha=0.1`.
// tfjs-layers has no 'leaky_relu' activation string: the export writes a LeakyReLU layer (after a linear dense
// or convolution where it is the ACTIVATION word; nnc import folds that pair back into the one statement).
import { defineActivation } from "./activation.ts";

export const LEAKY_RELU_ALPHA = 0.3;

export const leakyRelu = defineActivation({
  name: "leaky_relu",
  doc: "x if x > 0 else alpha * x (alpha 0.3, Keras 2's and tfjs-layers' LeakyReLU default)",
  keras: {
    // None read: Keras' (and tf.nn's) leaky_relu activation string has slope 0.2, not this 0.3 (keras-import.ts).
    read: [],
    layer: { className: "LeakyReLU", base: "leaky_re_lu", config: { alpha: LEAKY_RELU_ALPHA } },
  },
  options: [
    {
      name: "alpha",
      type: { kind: "number", range: { min: 0 } },
      doc: "slope for x < 0 (Keras' alpha, Keras 3's negative_slope)",
      default: LEAKY_RELU_ALPHA,
      field: "alpha",
    },
  ],
  onnx: (ctx, x, p) => ({
    name: ctx.emit("LeakyRelu", [x.name], { alpha: { float: p?.alpha ?? LEAKY_RELU_ALPHA } }),
    layout: x.layout,
  }),
  forward: (tf, x, p) => tf.leakyRelu(x, p?.alpha ?? LEAKY_RELU_ALPHA),
  // 1 where x > 0, else alpha (as tfjs' LeakyRelu gradient).
  grad: (tf, { dy, x }, p) => tf.where(tf.greater(x, 0), dy, tf.mul(dy, p?.alpha ?? LEAKY_RELU_ALPHA)),
});
