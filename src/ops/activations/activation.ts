// One activation, one module: the contract every activation module (src/ops/activations/<name>.ts) fulfils, for
// every phase at once: its name (the ACTIVATION word and the statement that applies it alone), its formula for
// the docs, its Keras name, its ONNX emission, its forward and, where closed-form, its derivative for the
// compiled training step. The registry (src/ops/activations/index.ts) collects them; ACTIVATIONS, the IR's
// activation schema and the `activation` op's statements come from there.
//
// Front-end code (nnc check) reads these modules, and it must not load TensorFlow.js (its start-up is measured):
// so a module imports tfjs' types only, and its forward and derivative take the tf namespace as a parameter.
import type * as tfc from "@tensorflow/tfjs-core";
import type { OnnxContext, OnnxValue } from "../onnx.ts";
import type { ParamSpec } from "../signature.ts";

/** The tfjs-core namespace, handed in by the back end (the front end never loads it). */
export type Tf = typeof tfc;
type Tensor = tfc.Tensor;

/** What the compiled step hands an activation's derivative: the upstream gradient, its input and its output. */
export interface ActivationGradInput {
  dy: Tensor;
  /** The activation's input (the pre-activation values). */
  x: Tensor;
  /** The activation's output. */
  y: Tensor;
}

/**
 * An activation's own parameters where it has any (leaky_relu's alpha), as the `activation` node holds them;
 * absent ones take the module's defaults (the ACTIVATION word of dense or a convolution always does).
 */
export interface ActivationParams {
  alpha?: number;
}

/** Activations tfjs fuses into matMul / conv2d (inference only: under a tape only linear stays fused). */
export type FusedActivationName = "linear" | "relu" | "elu" | "sigmoid";

export interface ActivationDefinition<N extends string = string> {
  name: N;
  /** The formula, for the statement's doc and docs/language.md. */
  doc: string;
  /**
   * Keras: the activation string nnc writes in a layer's `activation` (tfjs-layers must know it), and every
   * string (Keras 2, Keras 3, tfjs-layers' camelCase) that `nnc import` reads as this activation. `write` is
   * undefined where tfjs-layers has no activation string for it (then `layer` says the Keras layer it is, or
   * the export refuses).
   */
  keras: {
    write?: string;
    read: readonly string[];
    /**
     * The Keras layer that applies it where no activation string does (`LeakyReLU`): its config at nnc's
     * defaults, which the node's own parameters (`alpha`) override.
     */
    layer?: { className: string; base: string; config: Record<string, unknown> };
    /** false: tfjs-layers 4.22 knows neither the string nor a layer, so tf.loadLayersModel refuses it (W420). */
    tfjs?: false;
  };
  /** Options of its statement (`leaky_relu alpha=0.1`), each filling the `activation` node's field of its name. */
  options?: ParamSpec[];
  /** The activation applied to `x` in ONNX (opset 17), for activation nodes and dense/conv2d's activation. */
  onnx(ctx: OnnxContext, x: OnnxValue, params?: ActivationParams): OnnxValue;
  /** The activation in tfjs (Keras' definition): training and inference alike. */
  forward(tf: Tf, x: Tensor, params?: ActivationParams): Tensor;
  /** tfjs' fused matMul / conv2d applies it itself in inference. */
  fused?: FusedActivationName;
  /**
   * The closed-form derivative for the compiled step: dy times d activation / d input, from the input and/or the
   * output. Absent: the compiled step does not cover it (autograd runs the step instead).
   */
  grad?(tf: Tf, g: ActivationGradInput, params?: ActivationParams): Tensor;
}

/** An activation module's definition, with its name's literal type kept (the registry derives the union). */
export const defineActivation = <const N extends string>(
  def: ActivationDefinition<N>,
): ActivationDefinition<N> => def;

/** ONNX: one operator over `x`, in `x`'s layout (elementwise). */
export const onnxUnary =
  (opType: string, attributes?: Parameters<OnnxContext["emit"]>[2]) =>
  (ctx: OnnxContext, x: OnnxValue): OnnxValue => ({
    name: ctx.emit(opType, [x.name], attributes),
    layout: x.layout,
  });
