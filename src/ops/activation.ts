// Op `activation`: an elementwise activation as a node of its own, written `relu` or `activation relu`.
import type { Static } from "@sinclair/typebox";
import { ACTIVATIONS, ActivationSchema, nodeSchema, type Activation } from "../ir/common.ts";
import type { OnnxAttribute, OnnxContext, OnnxValue } from "./onnx.ts";
import { kerasCommon, NO_PARAMS, type OpDefinition } from "./op.ts";
import { statement } from "./keras-import.ts";
import { activationArg, layerSignature } from "./signature.ts";

export const schema = nodeSchema("activation", { activation: ActivationSchema }, "elementwise activation");
export type ActivationNode = Static<typeof schema>;

/** The formula of each activation, for its statement's doc. */
export const ACTIVATION_DOCS: Record<Activation, string> = {
  relu: "max(x, 0)",
  sigmoid: "1 / (1 + exp(-x))",
  tanh: "hyperbolic tangent",
  softmax: "exp(x) / sum(exp(x)) over the last axis",
  elu: "x if x > 0 else exp(x) - 1",
  gelu: "x * Phi(x), Gaussian error linear unit",
  linear: "identity",
};

/** The ONNX operators of the activations that are one (opset 17); gelu is composed, linear is nothing. */
const ONNX_OPS: Partial<Record<Activation, string>> = {
  relu: "Relu",
  sigmoid: "Sigmoid",
  tanh: "Tanh",
  softmax: "Softmax",
  elu: "Elu",
};

/**
 * An activation applied to `x` in ONNX, for activation nodes and the activation of dense and conv2d. Softmax is
 * over nnc's last axis: the channels, which are axis 1 of an NCHW tensor. Elu has Keras' alpha 1. Gelu is
 * Keras' exact form 0.5 x (1 + erf(x / sqrt 2)) from Mul, Erf and Add (ONNX's Gelu is opset 20).
 */
export function onnxActivation(ctx: OnnxContext, x: OnnxValue, fn: Activation): OnnxValue {
  const out = (name: string): OnnxValue => ({ name, layout: x.layout });
  if (fn === "linear") return x;
  if (fn === "gelu") {
    const scaled = ctx.emit("Mul", [x.name, ctx.constant("gelu_sqrt1_2", [], [Math.SQRT1_2])]);
    const phi = ctx.emit("Add", [ctx.emit("Erf", [scaled]), ctx.constant("gelu_one", [], [1])]);
    return out(ctx.emit("Mul", [ctx.emit("Mul", [x.name, phi]), ctx.constant("gelu_half", [], [0.5])]));
  }
  const attributes: Record<string, OnnxAttribute> =
    fn === "softmax" ? { axis: x.layout === "nchw" ? 1 : -1 } : fn === "elu" ? { alpha: { float: 1 } } : {};
  return out(ctx.emit(ONNX_OPS[fn]!, [x.name], attributes));
}

export const activation: OpDefinition<ActivationNode> = {
  op: "activation",
  schema,
  signatures: [
    ...ACTIVATIONS.map((a) => layerSignature(a, `activation layer: ${ACTIVATION_DOCS[a]}`)),
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
