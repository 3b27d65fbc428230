// Op `activation`: an elementwise activation as a node of its own, written `relu` or `activation relu`.
import type { Static } from "@sinclair/typebox";
import { ACTIVATIONS, ActivationSchema, nodeSchema, type Activation } from "../ir/common.ts";
import { activationOf } from "./activations/index.ts";
import type { OnnxContext, OnnxValue } from "./onnx.ts";
import { kerasCommon, NO_PARAMS, type OpDefinition } from "./op.ts";
import { statement } from "./keras-import.ts";
import { activationArg, layerSignature } from "./signature.ts";

export const schema = nodeSchema("activation", { activation: ActivationSchema }, "elementwise activation");
export type ActivationNode = Static<typeof schema>;

/**
 * An activation applied to `x` in ONNX, for activation nodes and the activation of dense and conv2d: the
 * activation module's rule (src/ops/activations/).
 */
export function onnxActivation(ctx: OnnxContext, x: OnnxValue, fn: Activation): OnnxValue {
  return activationOf(fn).onnx(ctx, x);
}

export const activation: OpDefinition<ActivationNode> = {
  op: "activation",
  schema,
  signatures: [
    ...ACTIVATIONS.map((a) => layerSignature(a, `activation layer: ${activationOf(a).doc}`)),
    layerSignature("activation", "activation layer, the activation named", [
      { ...activationArg, required: true, doc: `one of ${ACTIVATIONS.join(", ")}` },
    ]),
  ],
  // `relu` names its activation; `activation relu` gives it as an argument.
  build: (sig, arg) => ({
    activation: sig.name === "activation" ? arg<Activation>("ACTIVATION") : (sig.name as Activation),
  }),
  keras: { base: "activation", className: "Activation" },
  arity: "one",
  infer: (_node, [x]) => ({ shape: x!.shape, params: NO_PARAMS }),
  kerasConfig: (node) => ({ ...kerasCommon(node), activation: node.activation }),
  kerasWeights: () => [],
  // Activation(NAME) and the layers that are one activation (ReLU, Softmax, ELU) at Keras' defaults.
  fromKeras: {
    classNames: ["Activation", "ReLU", "Softmax", "ELU"],
    read(r, className) {
      if (className === "ReLU") {
        r.expect("max_value", [null], "nnc's relu is unbounded (max_value null)");
        r.expect("negative_slope", [0], "nnc's relu has no negative slope (a leaky relu)");
        r.expect("threshold", [0], "nnc's relu has threshold 0");
        return statement("relu", []);
      }
      if (className === "Softmax") {
        // tfjs writes axis 1 by default: the last axis of its [batch, features] input.
        r.lastAxis("axis", "computes softmax");
        const lastAxis = r.lastAxisIndex;
        return { ...statement("softmax", []), ...(lastAxis === undefined ? {} : { lastAxis }) };
      }
      if (className === "ELU") {
        r.expect("alpha", [1], "nnc's elu has alpha 1");
        return statement("elu", []);
      }
      return statement(r.activation(), []);
    },
  },
  activation: (node) => node.activation,
  passesValues: (node) => node.activation === "linear",
  trainingCopies: (node) => (node.activation === "linear" ? 0 : 2),
  onnx: (node, ctx) => onnxActivation(ctx, ctx.input(0, "any"), node.activation),
};
