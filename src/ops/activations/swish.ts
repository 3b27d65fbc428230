// Activation `swish`: x * sigmoid(x) (Ramachandran et al., 2017; also called SiLU). tfjs-layers' 'swish' is
// this (its alpha 1); Keras 3 names it 'silu' with 'swish' as an alias.
import { defineActivation, type ActivationDefinition } from "./activation.ts";

const swishRule = {
  doc: "x * sigmoid(x)",
  // ONNX's Swish is opset 24: x * Sigmoid(x).
  onnx: ((ctx, x) => ({
    name: ctx.emit("Mul", [x.name, ctx.emit("Sigmoid", [x.name])]),
    layout: x.layout,
  })) as ActivationDefinition["onnx"],
  forward: ((tf, x) => tf.mul(x, tf.sigmoid(x))) as ActivationDefinition["forward"],
  // s + x s (1 - s) with s = sigmoid(x): s + y (1 - s) from the output.
  grad: ((tf, { dy, x, y }) => {
    const s = tf.sigmoid(x);
    return tf.mul(dy, tf.add(s, tf.mul(y, tf.sub(1, s))));
  }) as NonNullable<ActivationDefinition["grad"]>,
};

export const swish = defineActivation({
  name: "swish",
  ...swishRule,
  keras: { write: "swish", read: ["swish"] },
});

/** `silu`, swish's other name: written as the user wrote it, exported as 'swish' (tfjs-layers has no 'silu'). */
export const silu = defineActivation({
  name: "silu",
  ...swishRule,
  doc: "x * sigmoid(x), the same as swish",
  keras: { write: "swish", read: ["silu"] },
});
