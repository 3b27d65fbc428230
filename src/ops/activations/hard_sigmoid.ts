// Activation `hard_sigmoid`: clip(0.2 x + 0.5, 0, 1), the definition of Keras 2 and of tfjs-layers 4.22
// (K.hardSigmoid), which is what tf.loadLayersModel computes from the export. Differs from Keras 3, whose
// hard_sigmoid is relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1): nnc follows tfjs-layers so that the export
// predicts what nnc predicts.
import { defineActivation } from "./activation.ts";

export const hardSigmoid = defineActivation({
  name: "hard_sigmoid",
  doc: "clip(0.2 x + 0.5, 0, 1) (Keras 2 and tfjs-layers; Keras 3's is clip(x / 6 + 0.5, 0, 1))",
  keras: { write: "hard_sigmoid", read: ["hard_sigmoid", "hardSigmoid"] },
  // ONNX's HardSigmoid defaults are Keras 2's: alpha 0.2, beta 0.5.
  onnx: (ctx, x) => ({
    name: ctx.emit("HardSigmoid", [x.name], { alpha: { float: 0.2 }, beta: { float: 0.5 } }),
    layout: x.layout,
  }),
  forward: (tf, x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1),
  // 0.2 where the line is not clipped (autograd of clipByValue passes dy where lo <= v <= hi, as here).
  grad: (tf, { dy, x }) => {
    const v = tf.add(tf.mul(x, 0.2), 0.5);
    return tf.mul(
      dy,
      tf.mul(tf.cast(tf.logicalAnd(tf.greaterEqual(v, 0), tf.lessEqual(v, 1)), "float32"), 0.2),
    );
  },
});
