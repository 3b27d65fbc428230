// Lowering: a checked IR model -> a Network: the model's weights as tf.Variables with Keras names and seeded
// initial values, and one forward function in NHWC with a training and an inference mode, over the model's
// graph in node order. What each op makes and runs is its kernel (src/kernels/); training code (src/train/)
// drives the network, the CompiledModel (model.ts) wraps it for callers.
import * as tf from "@tensorflow/tfjs-core";
import "./register-gradients.ts";
import type { Activation, Initializer, Layer, Model } from "../ir/schema.ts";
import { outputActivation } from "../ir/loss-rules.ts";
import { kernelOf } from "../kernels/index.ts";
import type {
  BatchNormNode,
  ForwardOptions,
  LowerContext,
  LoweredNode,
  WeightEntry,
} from "../kernels/kernel.ts";
import { opOf } from "../ops/index.ts";
import { Random } from "../util/random.ts";
import { sizeOf } from "../util/shape.ts";
import { initialValues } from "./initializers.ts";

export type { BatchNormNode, ForwardOptions, WeightEntry } from "../kernels/kernel.ts";
export { dropoutMask, dropoutMaskValues } from "../kernels/dropout.ts";

// tfjs registers variables in one global namespace, and two models in one process (experiments, tests) would
// both have a "dense/kernel": the engine name is prefixed per network; Keras names are kept beside it.
let networkCount = 0;

export class Network {
  readonly weights: WeightEntry[] = [];
  /** The batchnorm nodes, in node order. */
  readonly batchNorms: BatchNormNode[] = [];
  /**
   * Biases of a dense/conv2d with no activation (`channelAffine`) whose one consumer is a batchnorm: in training
   * the batch mean subtracts them, so they change nothing and their exact gradient is 0 (differentiating through
   * the addition gives float noise, which Adam turns into steps of about lr). Decided here for both gradient
   * paths: training never adds them (forward in training mode), their gradient is 0, and the batchnorm adds them
   * to its batch mean instead, so the moving mean is what it would have been and inference (which adds them)
   * agrees. They stay weights: saved, counted, Keras-compatible. A producer with another consumer too (the
   * skip path of a residual) keeps its bias: that consumer sees it.
   */
  readonly absorbedBiases: WeightEntry[] = [];
  /** Per-sample input shape, as the model declares it (the batch tensor is [batch, ...inputShape]). */
  readonly inputShape: number[];
  readonly outputActivation: Activation;
  /**
   * Position of the node that applies the output activation, when only value-preserving nodes (flatten, dropout,
   * a linear activation) follow it on the way to the output and nothing else takes the values on that way (so
   * the loss can be taken from its pre-activation logits: stable log-softmax, BCE from logits); -1 otherwise.
   */
  readonly logitsLayer: number;
  readonly hasDropout: boolean;
  /** Each node's lowering, by position in model.layers. */
  readonly nodes: LoweredNode[] = [];
  /** For each node (by position), the positions of its inputs, in order; none for the input node. */
  readonly inputsOf: number[][];
  /** For each node (by position), the positions of the nodes that take its output, in node order. */
  readonly consumersOf: number[][];
  /** For `stop`: which nodes each node depends on (filled when first asked). */
  private readonly ancestors: (Uint8Array | undefined)[] = [];
  private readonly prefix: string;

  constructor(
    readonly model: Model,
    readonly seed: number,
    kernelInitializer?: Initializer,
  ) {
    this.prefix = `nnc${++networkCount}`;
    const layers = model.layers;
    const input = layers[0];
    if (!input || input.op !== "input") throw new Error(`internal: model '${model.name}' has no input layer`);
    this.inputShape = [...input.shape];
    const position = new Map(layers.map((l, i) => [l.name, i] as const));
    this.inputsOf = layers.map((l) =>
      l.inputs.map((name) => {
        const at = position.get(name);
        if (at === undefined) throw new Error(`internal: node '${l.name}' takes unknown node '${name}'`);
        return at;
      }),
    );
    this.consumersOf = layers.map(() => []);
    this.inputsOf.forEach((ins, i) => ins.forEach((j) => this.consumersOf[j]!.push(i)));
    this.outputActivation = outputActivation(model);
    this.logitsLayer = this.findLogitsLayer();
    this.hasDropout = layers.some((l) => kernelOf(l).random === true);

    // A channel-affine node's bias is absorbed by its consumer when that is its only one and subtracts its input's
    // batch mean (batchnorm; see absorbedBiases).
    const absorbing = layers.map(() => false);
    layers.forEach((node, i) => {
      if (!kernelOf(node).absorbsInputBias) return;
      const p = this.inputsOf[i]![0]!;
      const producer = layers[p]!;
      if (opOf(producer).channelAffine?.(producer) && this.consumersOf[p]!.length === 1) absorbing[p] = true;
    });
    /** A node's bias, by position, when its consumer absorbs it. */
    const absorbedBias: (tf.Variable | undefined)[] = [];

    const rng = new Random(seed);
    const shapeOf = (l: Layer): number[] => {
      if (l.op === "input") return [...l.shape];
      if (!l.outputShape) throw new Error(`internal: node '${l.name}' is not checked (no outputShape)`);
      return l.outputShape.slice(1) as number[];
    };
    layers.forEach((node, index) => {
      const name = (suffix: string) => `${node.name}/${suffix}`;
      const ctx: LowerContext = {
        index,
        inputShapes: this.inputsOf[index]!.map((j) => shapeOf(layers[j]!)),
        // One stream per weight name: adding a node does not change the others' initial values.
        kernel: (suffix, shape, init) =>
          this.variable(
            name(suffix),
            shape,
            initialValues(kernelInitializer ?? init, shape, rng.fork(`init:${name(suffix)}`)),
            true,
          ),
        filled: (suffix, shape, value, trainable) =>
          this.variable(name(suffix), shape, new Float32Array(sizeOf(shape)).fill(value), trainable),
        bias: (units) => {
          const variable = this.variable(name("bias"), [units], new Float32Array(units), true);
          const absorbed = absorbing[index]!;
          if (absorbed) {
            this.absorbedBiases.push(this.weights.at(-1)!);
            absorbedBias[index] = variable;
          }
          return { variable, absorbed };
        },
        absorbedInputBias: kernelOf(node).absorbsInputBias
          ? absorbedBias[this.inputsOf[index]![0]!]
          : undefined,
      };
      const lowered = kernelOf(node).lower(node, ctx);
      this.nodes.push(lowered);
      if (lowered.batchNorm) this.batchNorms.push(lowered.batchNorm);
    });
  }

  get trainable(): WeightEntry[] {
    return this.weights.filter((w) => w.trainable);
  }

  weight(name: string): WeightEntry | undefined {
    return this.weights.find((w) => w.name === name);
  }

  /**
   * Runs the model on a batch [batch, ...inputShape], node by node in list order, each node's output kept by
   * position for the nodes that take it; the output is the last node's. With `stop`, only what node `stop`
   * depends on runs, and its (first) input is returned. Call inside tf.tidy (or a gradient function): the
   * intermediate values are the scope's to dispose.
   */
  forward(x: tf.Tensor, o: ForwardOptions): tf.Tensor {
    const n = this.nodes.length;
    const output = o.output;
    if (output !== undefined && (o.stop !== undefined || o.given?.size))
      throw new Error("internal: forward takes output or stop/given, not both");
    const stop = output !== undefined ? output + 1 : Math.min(o.stop ?? n, n);
    const given = o.given;
    const needed =
      output !== undefined
        ? this.ancestorsOf(output).map((m, i) => (i === output ? 1 : m))
        : given?.size
          ? this.neededBeside(stop, given)
          : stop < n
            ? this.ancestorsOf(stop)
            : undefined;
    const outs: tf.Tensor[] = new Array(stop);
    const logits = o.logits === true ? this.logitsLayer : -1;
    for (let i = 0; i < stop; i++) {
      if (needed && !needed[i]) continue;
      const known = given?.get(i);
      if (known) {
        outs[i] = known;
        continue;
      }
      const ins = this.inputsOf[i]!;
      const xs = ins.length === 0 ? [x] : ins.length === 1 ? [outs[ins[0]!]!] : ins.map((j) => outs[j]!);
      outs[i] = this.nodes[i]!.forward(xs, o, i === logits);
    }
    if (output !== undefined) return outs[output]!;
    if (stop === n) return outs[n - 1]!;
    const first = this.inputsOf[stop]![0];
    return first === undefined ? x : outs[first]!;
  }

  dispose(): void {
    for (const w of this.weights) w.variable.dispose();
    this.weights.length = 0;
  }

  private variable(name: string, shape: number[], values: Float32Array, trainable: boolean): tf.Variable {
    // The initial tensor is disposed: the variable holds the data alone (the optimizer writes it in place).
    const initial = tf.tensor(values, shape, "float32");
    const v = tf.variable(initial, trainable, `${this.prefix}/${name}`);
    initial.dispose();
    this.weights.push({ name, variable: v, trainable });
    return v;
  }

  /**
   * The nodes node `stop` (or the output, at the node count) depends on through paths that do not pass a given
   * node (the given ones marked too, so their outputs are placed). Not cached: the given set varies.
   */
  private neededBeside(stop: number, given: ReadonlyMap<number, tf.Tensor>): Uint8Array {
    const marks = new Uint8Array(this.nodes.length);
    const todo = stop < this.nodes.length ? [...this.inputsOf[stop]!] : [this.nodes.length - 1];
    while (todo.length > 0) {
      const j = todo.pop()!;
      if (marks[j]) continue;
      marks[j] = 1;
      if (!given.has(j)) todo.push(...this.inputsOf[j]!);
    }
    return marks;
  }

  /** The nodes node `stop` depends on (1), itself not included. */
  private ancestorsOf(stop: number): Uint8Array {
    let marks = this.ancestors[stop];
    if (marks) return marks;
    marks = new Uint8Array(this.nodes.length);
    const todo = [...this.inputsOf[stop]!];
    while (todo.length > 0) {
      const j = todo.pop()!;
      if (marks[j]) continue;
      marks[j] = 1;
      todo.push(...this.inputsOf[j]!);
    }
    this.ancestors[stop] = marks;
    return marks;
  }

  /**
   * Walks back from the output node through nodes that pass values (src/ops `passesValues`) to a node with an
   * activation: its logits are the output's, if every value on the way goes only to the next node on it. Not
   * through dropout: it passes values at inference only, and in training the softmax of dropped-out logits is
   * not the dropped-out softmax.
   */
  private findLogitsLayer(): number {
    const layers = this.model.layers;
    let i = layers.length - 1;
    for (;;) {
      const node = layers[i]!;
      const op = opOf(node);
      if (!op.passesValues?.(node) || kernelOf(node).random)
        return op.activation?.(node) !== undefined ? i : -1;
      const previous = this.inputsOf[i]![0];
      if (previous === undefined || this.consumersOf[previous]!.length !== 1) return -1;
      i = previous;
    }
  }
}
