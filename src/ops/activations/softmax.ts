// Activation `softmax`: over the last axis. The compiled step leaves its derivative out: an output softmax is
// read as logits by the loss (stable log-softmax), and a hidden one runs under autograd.
import { defineActivation } from "./activation.ts";

export const softmax = defineActivation({
  name: "softmax",
  doc: "exp(x) / sum(exp(x)) over the last axis",
  keras: { write: "softmax", read: ["softmax"] },
  // nnc's last axis is the channels: axis 1 of an NCHW tensor.
  onnx: (ctx, x) => ({
    name: ctx.emit("Softmax", [x.name], { axis: x.layout === "nchw" ? 1 : -1 }),
    layout: x.layout,
  }),
  forward: (tf, x) => tf.softmax(x),
});
