// Activation `linear`: the identity (no activation; the default of dense and conv2d).
import { defineActivation } from "./activation.ts";

export const linear = defineActivation({
  name: "linear",
  doc: "identity",
  keras: { write: "linear", read: ["linear", "Linear", "None"] },
  onnx: (_ctx, x) => x,
  forward: (_tf, x) => x,
  fused: "linear",
  grad: (_tf, { dy }) => dy,
});
