// The activation registry: every activation nnc knows, in the order docs list them. The ACTIVATION word, the
// IR's activation schema (src/ir/common.ts), the `activation` op's statements, Keras' names and ONNX all come
// from here. Adding an activation is its module in this folder and a line below.
import type { ActivationDefinition, ActivationParams } from "./activation.ts";
import { elu } from "./elu.ts";
import { exponential } from "./exponential.ts";
import { gelu } from "./gelu.ts";
import { hardSigmoid } from "./hard_sigmoid.ts";
import { leakyRelu } from "./leaky_relu.ts";
import { linear } from "./linear.ts";
import { relu } from "./relu.ts";
import { selu } from "./selu.ts";
import { sigmoid } from "./sigmoid.ts";
import { softmax } from "./softmax.ts";
import { softplus } from "./softplus.ts";
import { silu, swish } from "./swish.ts";
import { tanh } from "./tanh.ts";

export const ACTIVATION_MODULES = [
  relu,
  sigmoid,
  tanh,
  softmax,
  elu,
  gelu,
  leakyRelu,
  selu,
  swish,
  silu,
  softplus,
  hardSigmoid,
  exponential,
  linear,
] as const;

/** An activation's name: the union of the registered ones. */
export type Activation = (typeof ACTIVATION_MODULES)[number]["name"];

/** Every activation name, in registry order. */
export const ACTIVATIONS: readonly Activation[] = ACTIVATION_MODULES.map((a) => a.name);

const byName = new Map<string, ActivationDefinition>(ACTIVATION_MODULES.map((a) => [a.name, a]));

/** The module of an activation (the schema guarantees every activation in the IR is registered). */
export function activationOf(name: Activation): ActivationDefinition<Activation> {
  const def = byName.get(name);
  if (!def) throw new Error(`internal: no activation module for '${name}'`);
  return def as ActivationDefinition<Activation>;
}

const byKerasName = new Map<string, Activation>(
  ACTIVATION_MODULES.flatMap((a) => a.keras.read.map((k) => [k, a.name] as const)),
);
const byKerasNameLower = new Map<string, Activation>(
  ACTIVATION_MODULES.flatMap((a) => a.keras.read.map((k) => [k.toLowerCase(), a.name] as const)),
);

/** nnc import: the activation a Keras activation string names (`"hard_sigmoid"`, `"hardSigmoid"`), if any. */
export const activationForKerasName = (name: string): Activation | undefined =>
  byKerasName.get(name) ?? byKerasNameLower.get(name.toLowerCase());

/**
 * The activation parameters a node holds (leaky_relu's `alpha`, on an activation node or beside the ACTIVATION
 * word of dense and the convolutions): absent ones take the activation's defaults.
 */
export function activationParams(node: object): ActivationParams {
  const alpha = (node as { alpha?: unknown }).alpha;
  return typeof alpha === "number" ? { alpha } : {};
}

/** The option names (fields) of `activation`'s own parameters: `alpha` for leaky_relu, none for the others. */
export const activationOptionFields = (activation: Activation): string[] =>
  (activationOf(activation).options ?? []).map((o) => o.field ?? o.name);

export type { ActivationDefinition, ActivationParams, Tf } from "./activation.ts";
