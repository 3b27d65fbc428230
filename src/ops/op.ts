// One op, one module: the contract every op module (src/ops/<op>.ts) fulfils for the phases that never load
// TensorFlow.js: the statement that writes it, its IR node schema, how a bound statement becomes a node, its
// shape and parameter rule, and its Keras name, config and weights. The registry (src/ops/index.ts) collects
// them; phases look an op up there instead of switching on op names. What lowering and training need of an op
// (weights, forward, backward) is its kernel module, src/kernels/<op>.ts, registered the same way.
import type { TObject } from "@sinclair/typebox";
import { diagnostic, type Diagnostic, type RelatedPlace } from "../diagnostics/index.ts";
import type { Activation, Span } from "../ir/common.ts";
import { formatShape } from "../util/shape.ts";
import type { KerasImportRule } from "./keras-import.ts";
import type { OnnxContext, OnnxValue } from "./onnx.ts";
import type { Signature } from "./signature.ts";

/** A per-sample-and-batch shape as the checker infers it: null is the batch dimension. */
export type Shape = (number | null)[];

export interface Params {
  trainable: number;
  nonTrainable: number;
}

export const NO_PARAMS: Params = Object.freeze({ trainable: 0, nonTrainable: 0 });

export type LayerResult = { shape: Shape; params: Params } | { error: Diagnostic };

/** The fields every node has, which the builder fills (names, inputs, spans) and the checker (shape, params). */
export type CommonField =
  "op" | "name" | "inputs" | "span" | "argSpans" | "expandedFrom" | "outputShape" | "params";

/** What every node looks like to code that does not know its op. */
export interface NodeLike {
  op: string;
  name: string;
  inputs: string[];
  span?: Span;
  argSpans?: Record<string, Span>;
  expandedFrom?: Span[];
}

/** Reads an argument of a bound statement: the value given, else the signature's default. */
export type ArgReader = <T>(name: string) => T;

/** A node's input as the checker sees it: its shape, and the node producing it (for hints). */
export interface InferInput {
  shape: Shape;
  from?: { op: string; name: string };
}

/** One weight of a node, as Keras holds it: `kernel`, `bias`, `gamma`, ... with its shape. */
export interface WeightSpec {
  suffix: string;
  shape: number[];
}

export type JsonObject = { [key: string]: unknown };
export interface KerasLayerJson {
  class_name: string;
  config: JsonObject;
}

/** One of the Keras layers an op exports as (OpDefinition.kerasLayers): its name and the layers it reads. */
export interface KerasGraphLayer extends KerasLayerJson {
  name: string;
  inputs: string[];
}

export interface OpDefinition<N extends NodeLike = NodeLike> {
  op: N["op"];
  /** The JSON Schema (TypeBox) of the op's IR node. */
  schema: TObject;
  /** The statements that write this op: usually one (`dense`); `activation` has one per activation name too. */
  signatures: Signature[];
  /** The op's own fields of a node written as statement `sig` (the builder adds the common fields). */
  build(sig: Signature, arg: ArgReader): Omit<N, CommonField>;
  /** Keras' default layer name (`dense`, then `dense_1`, ...) and class name. */
  keras: { base: string; className: string };
  /** How many inputs a node takes: none (the input), one, or "many" (two or more: add, concat). */
  arity: "none" | "one" | "many";
  /** Output shape and parameter counts (as Keras counts them) for the inputs' shapes, or why they do not fit. */
  infer(node: N, inputs: InferInput[]): LayerResult;
  /** The node's Keras class where it depends on the node (an activation node of leaky_relu is LeakyReLU). */
  kerasClass?(node: N): string;
  /** The Keras layer config (TensorFlow.js Layers format, snake_case as Keras writes it). */
  kerasConfig(node: N): JsonObject;
  /** The weights Keras holds for the node, in Keras' order, for its per-sample input shapes. */
  kerasWeights(node: N, inputs: number[][]): WeightSpec[];
  /**
   * For an op no tfjs-layers class loads as one layer (subtract): the Keras layers of a functional model that
   * compute it, the last named as the node (its output). Absent: one layer of keras.className and kerasConfig.
   */
  kerasLayers?(node: N): KerasGraphLayer[];
  /**
   * nnc import: the Keras classes that are this op, and how a config of one reads as the statement that writes
   * it (the inverse of kerasConfig). Absent for ops no Keras layer maps to.
   */
  fromKeras?: KerasImportRule;
  /**
   * The output shape when the input's is unknown (after an error upstream), for ops whose output does not
   * depend on it (`dense 10` is [?, 10] whatever it takes): the checker goes on from there, so one mistake does
   * not hide the independent ones after it.
   */
  outputWithoutInput?(node: N): Shape;
  /** The non-linear activation the node applies to its output, if any (`dense 10 softmax`, `relu`). */
  activation?(node: N): Activation | undefined;
  /** Whether the node passes values through unchanged (flatten, dropout, a linear activation). */
  passesValues?(node: N): boolean;
  /**
   * Of an op that changes values in training only (dropout, spatial_dropout, gaussian_noise): what it does to
   * them there, in a few words for a lint ("adds noise of variance 0.01"). Absent: the same in both modes.
   */
  trainingNoise?(node: N): string;
  /**
   * Warnings about this op's own settings that checking accepts (a dilation on a one-tap window, a pooling
   * stride past its window), given the shape it reads when that is known. The lint pass (src/check/lints.ts)
   * asks every node's op; lints about how ops sit together stay there.
   */
  lints?(node: N, input: Shape | undefined): Diagnostic[];
  /**
   * Whether the node's output is `x * kernel + bias` per output channel with no activation after it: a
   * batchnorm fed only by such a node folds into its kernel and bias at inference, and absorbs its bias in
   * training (the batch mean subtracts it).
   */
  channelAffine?(node: N): boolean;
  /**
   * Of a channel-affine node: the weight (suffix) whose values a folded batchnorm's per-channel scale multiplies,
   * the value at flat index j belonging to output channel j % channels: a dense or conv kernel's last axis, a
   * depthwise kernel [kh, kw, in, M]'s last two (its output channel is c * M + m). Default `kernel`.
   */
  foldedKernel?: string;
  /** The weights (suffixes) `l2=` penalizes, as Keras' kernel_regularizer (or depthwise_ and pointwise_) does. Default `kernel`. */
  regularizedKernels?: readonly string[];
  /**
   * Multiply-adds of the node's forward pass per sample, from its per-sample input and output shapes (no batch
   * axis): what the FLOPs count (src/ir/flops.ts) and the thread planner's work estimate read. Absent: none
   * counted (elementwise work is memory-bound and left out).
   */
  macs?(node: N, inputs: number[][], output: number[]): number;
  /**
   * Tensors of the node's output size a training step keeps until it ends (forward intermediates and their
   * gradients): 2 when absent (the output and its gradient). The memory estimate (src/ir/training-memory.ts)
   * multiplies it by the batch; an op that makes no new values (flatten's reshape) says 0.
   */
  trainingCopies?(node: N): number;
  /**
   * The node in ONNX (src/onnx/): emits its ONNX nodes and weights through `ctx` and returns its output tensor.
   * An op without a rule cannot be exported (E760).
   */
  onnx?(node: N, ctx: OnnxContext): OnnxValue;
}

/** trainingCopies of a weighted layer: its output and gradient, and with a non-linear activation those before it. */
export const weightedCopies = (activation: Activation): number => (activation === "linear" ? 2 : 4);

/** The config fields every Keras layer has. */
export const kerasCommon = (node: NodeLike) => ({ name: node.name, trainable: true, dtype: "float32" });

export const cls = (class_name: string, config: JsonObject = {}): KerasLayerJson => ({ class_name, config });

/**
 * Where a diagnostic about a node points: its source line, and for a node expanded from block uses or repeats
 * each of those too (the line inside a block's body is shared by all its uses: the use says which one).
 */
export function at(node: NodeLike, span = node.span): { span?: Span; related?: RelatedPlace[] } {
  if (!span) return {};
  const uses = node.expandedFrom ?? [];
  if (uses.length === 0) return { span };
  return { span, related: uses.map((use) => ({ span: use, message: "expanded from the use" })) };
}

/** Where a diagnostic about one of a node's arguments points: the argument when written, else the statement. */
export const argumentAt = (node: NodeLike, field?: string) =>
  at(node, (field && node.argSpans?.[field]) || node.span);

/** E302: an op got an input of the wrong rank. */
export function wrongRank(node: NodeLike, input: Shape, expected: string, hint: string): LayerResult {
  return {
    error: diagnostic(
      "E302",
      { op: node.op, expected, got: `rank-${input.length} ${formatShape(input)}`, hint },
      at(node),
    ),
  };
}

/** Why an image layer got the wrong rank, in the words of the likely fix. */
export function imageHint(input: InferInput): string {
  const shape = input.shape;
  if (shape.length === 3 && input.from?.op === "input") {
    return `use 'input ${shape.slice(1).join("x")}x1' for images (height x width x channels)`;
  }
  if (shape.length === 3) return "images are [batch, height, width, channels]";
  if (shape.length === 2 && input.from?.op === "flatten") {
    return "the 'flatten' before it made each sample a vector: put flatten after the convolutions and pooling";
  }
  return "it needs images of shape [batch, height, width, channels]";
}

/** Why a sequence layer (maxpool1d, globalavgpool1d) got the wrong rank, in the words of the likely fix. */
export function sequenceHint(input: InferInput): string {
  const shape = input.shape;
  if (shape.length === 2 && input.from?.op === "input") {
    return `use 'input ${shape[1]}x1' for a sequence of ${shape[1]} steps of one channel (steps x channels)`;
  }
  if (shape.length === 4) return "it takes sequences [batch, steps, channels]; images take the 2-D layer";
  return "it needs sequences of shape [batch, steps, channels]";
}

/** The last axis of a shape: the channels of NHWC, the features of [batch, features]. */
export const channelsOf = (shape: Shape | number[]): number => (shape[shape.length - 1] as number) ?? 1;
