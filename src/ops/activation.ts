// Op `activation`: an elementwise activation as a node of its own, written `relu` or `activation relu`; an
// activation with options takes them on its own statement (`leaky_relu alpha=0.1`).
import type { Static } from "@sinclair/typebox";
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import {
  ACTIVATIONS,
  ActivationParamsFields,
  ActivationSchema,
  nodeSchema,
  type Activation,
} from "../ir/common.ts";
import {
  activationOf,
  activationOptionFields,
  activationParams,
  type ActivationParams,
} from "./activations/index.ts";
import type { OnnxContext, OnnxValue } from "./onnx.ts";
import { at, kerasCommon, NO_PARAMS, type NodeLike, type OpDefinition } from "./op.ts";
import { LEAKY_RELU_ALPHA } from "./activations/leaky_relu.ts";
import { optionUnlessDefault, roundFloat, statement, type ImportedStatement } from "./keras-import.ts";
import { activationArg, layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "activation",
  {
    activation: ActivationSchema,
    ...ActivationParamsFields,
  },
  "elementwise activation",
);
export type ActivationNode = Static<typeof schema>;

/**
 * An activation applied to `x` in ONNX, for activation nodes and the activation of dense and conv2d: the
 * activation module's rule (src/ops/activations/).
 */
export function onnxActivation(
  ctx: OnnxContext,
  x: OnnxValue,
  fn: Activation,
  params?: ActivationParams,
): OnnxValue {
  return activationOf(fn).onnx(ctx, x, params);
}

export { activationParams };

/**
 * E781: an activation option (alpha=) on a node whose activation does not take it (`dense 10 relu alpha=0.1`),
 * pointing at the option. Checked for every node before its shape (src/check/shapes.ts).
 */
export function activationOptionError(
  node: NodeLike & { alpha?: number },
  fn: Activation,
): Diagnostic | undefined {
  const given = Object.keys(ActivationParamsFields).filter(
    (field) => (node as unknown as Record<string, unknown>)[field] !== undefined,
  );
  const option = given.find((field) => !activationOptionFields(fn).includes(field));
  if (option === undefined) return undefined;
  const takers = ACTIVATIONS.filter((a) => activationOptionFields(a).includes(option));
  return diagnostic(
    "E781",
    { layer: node.name, option, activation: fn, takers: takers.join(", ") },
    at(node, node.argSpans?.[option] ?? node.span),
  );
}

/**
 * The activation string a Keras layer's `activation` holds for `fn`: its own where tfjs-layers has one, else
 * "linear" where a layer of its own applies it (the export adds that layer after), else Keras' name (W420).
 */
export function kerasActivationName(fn: Activation): string {
  const k = activationOf(fn).keras;
  return k.write ?? (k.layer ? "linear" : fn);
}

export const activation: OpDefinition<ActivationNode> = {
  op: "activation",
  schema,
  signatures: [
    ...ACTIVATIONS.map((a) =>
      layerSignature(a, `activation layer: ${activationOf(a).doc}`, [], activationOf(a).options ?? []),
    ),
    layerSignature("activation", "activation layer, the activation named", [
      { ...activationArg, required: true, doc: `one of ${ACTIVATIONS.join(", ")}` },
    ]),
  ],
  // `relu` names its activation; `activation relu` gives it as an argument; options fill fields of their name.
  build(sig, arg) {
    const fn = sig.name === "activation" ? arg<Activation>("ACTIVATION") : (sig.name as Activation);
    const options = sig.name === "activation" ? [] : (activationOf(fn).options ?? []);
    return {
      activation: fn,
      ...Object.fromEntries(options.map((o) => [o.field ?? o.name, arg<number>(o.name)])),
    };
  },
  keras: { base: "activation", className: "Activation" },
  // An activation tfjs-layers has no string for is its Keras layer (LeakyReLU).
  kerasClass: (node) => activationOf(node.activation).keras.layer?.className ?? "Activation",
  arity: "one",
  infer: (_node, [x]) => ({ shape: x!.shape, params: NO_PARAMS }),
  kerasConfig(node) {
    const layer = activationOf(node.activation).keras.layer;
    if (layer) return { ...kerasCommon(node), ...layer.config, ...activationParams(node) };
    return { ...kerasCommon(node), activation: kerasActivationName(node.activation) };
  },
  kerasWeights: () => [],
  // Activation(NAME) and the layers that are one activation (ReLU, Softmax, ELU, LeakyReLU) at Keras' defaults.
  fromKeras: {
    classNames: ["Activation", "ReLU", "Softmax", "ELU", "LeakyReLU"],
    read(r, className) {
      if (className === "ReLU") {
        r.expect("max_value", [null], "nnc's relu is unbounded (max_value null)");
        r.expect("threshold", [0], "nnc's relu has threshold 0");
        // A negative slope makes it a leaky relu.
        const slope = r.number("negative_slope", 0, (s) => (s < 0 ? "nnc takes a slope >= 0" : undefined));
        return slope === 0 ? statement("relu", []) : leaky(slope);
      }
      if (className === "LeakyReLU") {
        // Keras 2 and tfjs write alpha, Keras 3 negative_slope; both default to 0.3.
        const key = r.has("negative_slope") ? "negative_slope" : "alpha";
        return leaky(r.number(key, LEAKY_RELU_ALPHA, (s) => (s < 0 ? "nnc takes a slope >= 0" : undefined)));
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
  onnx: (node, ctx) => onnxActivation(ctx, ctx.input(0, "any"), node.activation, activationParams(node)),
};

/** `leaky_relu [alpha=A]`, alpha written where it is not nnc's default. */
function leaky(alpha: number): ImportedStatement {
  const options: ImportedStatement["options"] = [];
  optionUnlessDefault(options, "alpha", roundFloat(alpha), LEAKY_RELU_ALPHA);
  return statement("leaky_relu", [], options);
}
