// Kernels: the contract every kernel module (src/kernels/<op>.ts) fulfils, the back-end half of an op (its
// front-end half is src/ops/<op>.ts): the node's weights (Keras names, seeded initial values), its forward in
// training and inference mode, and its stage of the compiled training step (forward in training mode with a
// closed-form backward). Lowering (src/lower/network.ts) and the compiled step (src/train/manual-backward.ts)
// walk the graph and look each node's kernel up in the registry (src/kernels/index.ts).
import type * as tf from "@tensorflow/tfjs-core";
import type { Initializer, Layer } from "../ir/schema.ts";
import type { BatchNormWeights, BatchStatistics } from "../lower/batchnorm.ts";
import type { Shard } from "../train/shard.ts";
import type { Random } from "../util/random.ts";

export interface WeightEntry {
  /** Keras name: "dense/kernel", "batch_normalization/moving_mean", ... */
  name: string;
  variable: tf.Variable;
  trainable: boolean;
}

/** A batchnorm node as the trainer sees it: its weights, for the moving-average update. */
export interface BatchNormNode {
  /** The node's position in the model's list of nodes. */
  index: number;
  layer: Extract<Layer, { op: "batchnorm" }>;
  weights: BatchNormWeights;
  /** The bias of the node feeding it, absorbed by this batchnorm in training (see Network.absorbedBiases). */
  absorbedBias?: tf.Variable;
}

/** What one training step measured in each batchnorm node, in node order. */
export type BatchNormReports = Array<{ node: BatchNormNode; stats: BatchStatistics }>;

export interface ForwardOptions {
  training: boolean;
  /** Training: each batchnorm node reports its batch statistics here, for the moving-average update. */
  bnStats?: BatchNormReports;
  /** Training: the random stream of a dropout node's mask for this step (from seed, epoch, step). */
  dropoutRng?: (layer: string) => Random;
  /** Return the output node's pre-activation values (only when the network has a `logitsLayer`). */
  logits?: boolean;
  /**
   * Run only what node `stop` (a position in the model's list) depends on, and return that node's (first) input:
   * a batchnorm's input for the population statistics. The node count runs the whole model.
   */
  stop?: number;
  /** Return node `output`'s (a position) output instead of the model's: run only what it depends on. */
  output?: number;
  /**
   * Node outputs already computed (by position): they are used as they are, and what only they depend on is not
   * run. The population statistics pass gives a batchnorm's input kept from the pass before it.
   */
  given?: ReadonlyMap<number, tf.Tensor>;
}

/** What lowering gives a kernel for one node: where the inputs come from, and how to make its weights. */
export interface LowerContext {
  /** The node's position in the model's list of nodes. */
  index: number;
  /** Per-sample shapes (no batch axis) of the node's inputs, in `inputs` order. */
  inputShapes: number[][];
  /**
   * A trainable kernel `<node>/<suffix>` drawn from its initializer (train.init overrides it), from a stream
   * of its own: adding a node does not change the others' initial values.
   */
  kernel(suffix: string, shape: number[], init: Initializer): tf.Variable;
  /** A weight `<node>/<suffix>` filled with one value (Keras' Zeros / Ones initializers). */
  filled(suffix: string, shape: number[], value: number, trainable: boolean): tf.Variable;
  /**
   * The bias `<node>/bias` (zeros) of a channel-affine node (src/ops/op.ts `channelAffine`). `absorbed`: the
   * batchnorm that is the node's one consumer absorbs it in training (Network.absorbedBiases), so the training
   * forward leaves it out and its gradient is 0.
   */
  bias(units: number): { variable: tf.Variable; absorbed: boolean };
  /** For a kernel that absorbs its input's bias (`absorbsInputBias`): that bias, when there is one. */
  absorbedInputBias: tf.Variable | undefined;
}

/** The per-step state the compiled step hands every stage. */
export interface StepContext {
  dropoutRng: ((layer: string) => Random) | undefined;
  /** Each batchnorm stage reports its batch statistics here, in node order. */
  bnStats: BatchNormReports;
  /** This step's rows of the batch; batchnorm's statistics and the loss are over the whole batch. */
  shard: Shard;
}

/**
 * A node's backward, called once per step with dy, the loss's gradient w.r.t. the node's output: writes the
 * gradients of the node's trainable weights into `grads` (by Keras name) and, when `needDx`, returns the
 * gradient w.r.t. each input, in `inputs` order (else undefined: nothing upstream learns).
 */
export type Backward = (
  dy: tf.Tensor,
  grads: Record<string, tf.Tensor>,
  needDx: boolean,
) => tf.Tensor[] | undefined;

export interface StageResult {
  y: tf.Tensor;
  backward: Backward;
  /**
   * The stage also applied its one consumer (batchnorm -> relu): that node then passes this output through, and
   * this backward takes the gradient of the consumer's output.
   */
  fusedConsumer?: boolean;
}

/** One node's step: forward in training mode over its inputs, and the backward over what it saved. */
export type Stage = (inputs: tf.Tensor[], ctx: StepContext) => StageResult;

/** What the compiled step knows of a node when it builds the node's stage. */
export interface StageSetup {
  /** The loss reads this node's pre-activation logits: leave the activation out. */
  logits: boolean;
  /** The node's one consumer, when it has exactly one (a batchnorm fuses a relu there). */
  onlyConsumer: Layer | undefined;
}

/** One node lowered: its weights are made; what runs it. */
export interface LoweredNode {
  /**
   * The node's output from its inputs' (the input node gets the batch), in training or inference mode. `linear`:
   * leave the activation out (the loss reads the logits). Runs inside the caller's tf.tidy or gradient tape.
   */
  forward(inputs: tf.Tensor[], o: ForwardOptions, linear: boolean): tf.Tensor;
  /** The node's stage of the compiled training step; absent or undefined where the step does not cover it. */
  stage?(setup: StageSetup): Stage | undefined;
  /** A batchnorm's weights, for the moving-average update and the population statistics. */
  batchNorm?: BatchNormNode;
}

export interface KernelDefinition<N extends Layer = Layer> {
  op: N["op"];
  /** Makes the node's weights (in Keras' order) and returns how to run it. */
  lower(node: N, ctx: LowerContext): LoweredNode;
  /** Training draws from the node's random stream (ForwardOptions.dropoutRng): dropout. */
  random?: boolean;
  /**
   * In training the node subtracts its input's per-channel batch mean (batchnorm), so a bias added by the
   * channel-affine node feeding it, when it is that node's one consumer, changes nothing: it is absorbed.
   */
  absorbsInputBias?: boolean;
}
