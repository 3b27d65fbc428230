// Training: the compiled step's gradient function: each node's stage (its kernel's forward in training mode
// and closed-form backward, src/kernels/) in node order, the loss head, then the backwards in reverse node order,
// the gradient of a node's output summed over the nodes that take it (the skip path of a residual). Gradients
// equal autograd's (tested to 1e-5); matmul transposes materialised, conv input gradients as forward
// convolutions (wasm's fast XNNPACK paths), no input gradients where nothing upstream learns, and batchnorm's
// closed form.
import * as tf from "@tensorflow/tfjs-core";
import type { LoweredLoss } from "../lower/loss.ts";
import type { Network } from "../lower/network.ts";
import { addPenaltyGradients, l2Penalties, penaltyValue } from "../lower/regularizers.ts";
import type { Backward, Stage, StepContext } from "../kernels/kernel.ts";
import { wholeBatch } from "./shard.ts";
import type { GradientFn } from "./step.ts";

/**
 * The hand-written gradient function for `net`, or undefined when the network has a node its kernel's stage does
 * not cover (average pooling, layernorm, elu/gelu, a softmax that is not the logits of a cross-entropy).
 */
export function manualGradients(
  net: Network,
  loss: LoweredLoss,
  options: { jsLossHeadMaxValues?: number } = {},
): GradientFn | undefined {
  const jsHeadMax = options.jsLossHeadMaxValues ?? JS_HEAD_MAX_VALUES;
  const layers = net.model.layers;
  const n = layers.length;
  const { inputsOf, consumersOf } = net;
  const crossEntropyLogits = loss.logits && net.outputActivation === "softmax";
  const stages: Stage[] = [];
  for (let i = 0; i < n; i++) {
    const consumers = consumersOf[i]!;
    const stage = net.nodes[i]!.stage?.({
      logits: i === net.logitsLayer && loss.logits,
      onlyConsumer: consumers.length === 1 ? layers[consumers[0]!] : undefined,
    });
    if (!stage) return undefined;
    stages.push(stage);
  }
  // A node's output needs a gradient only if the node or a node before it learns; its backward computes input
  // gradients only if one of its inputs needs one (the first dense layer computes none).
  const learns = layers.map((l) => net.weights.some((w) => w.trainable && w.name.startsWith(`${l.name}/`)));
  const needsGrad: boolean[] = [];
  const needDx: boolean[] = [];
  for (let i = 0; i < n; i++) {
    needDx.push(inputsOf[i]!.some((j) => needsGrad[j]));
    needsGrad.push(learns[i]! || needDx[i]!);
  }
  const onlyConsumer = consumersOf.map((c) => (c.length === 1 ? c[0]! : -1));
  // Keras kernel_regularizer L2 (src/lower/regularizers.ts): in the loss and the kernels' gradients.
  const penalties = l2Penalties(net);
  // Per-step state by node position, made once: outputs, backwards, the gradient of each output, and which
  // nodes pass their input through this step (a relu fused into the batchnorm before it).
  const outs: (tf.Tensor | undefined)[] = new Array(n).fill(undefined);
  const backwards: (Backward | undefined)[] = new Array(n).fill(undefined);
  const dys: (tf.Tensor | undefined)[] = new Array(n).fill(undefined);
  const fused = new Uint8Array(n);
  const accumulate = (j: number, d: tf.Tensor) => {
    const before = dys[j];
    dys[j] = before ? tf.add(before, d) : d;
  };

  return ({ x, y, dropoutRng, shard = wholeBatch(x.shape[0]!) }) => {
    const ctx: StepContext = { dropoutRng, bnStats: [], shard };
    fused.fill(0);
    try {
      for (let i = 0; i < n; i++) {
        const ins = inputsOf[i]!;
        if (fused[i]) {
          outs[i] = outs[ins[0]!];
          continue;
        }
        const xs = ins.length === 0 ? [x] : ins.length === 1 ? [outs[ins[0]!]!] : ins.map((j) => outs[j]!);
        const r = stages[i]!(xs, ctx);
        outs[i] = r.y;
        backwards[i] = r.backward;
        if (r.fusedConsumer) fused[onlyConsumer[i]!] = 1;
      }
      const h = outs[n - 1]!;
      // The loss is the mean over the whole batch: this share's rows weigh rows / total of it.
      let value: tf.Scalar;
      let correct: tf.Scalar;
      let dy: tf.Tensor;
      if (crossEntropyLogits && h.size <= jsHeadMax) {
        ({ loss: value, correct, dy } = softmaxCrossEntropyHead(h, y, shard.total, loss));
      } else if (crossEntropyLogits) {
        ({ loss: value, correct } = loss.compute(h, y));
        // d sum_i w_i (-sum_k t_ik log softmax(z_i)_k) / batch / dz = w_i (softmax(z) - t) / batch, for targets
        // t = (1 - s) onehot + s / units (label smoothing s) and class weights w_i (1 without them)
        const units = h.shape.at(-1)!;
        const s = loss.labelSmoothing;
        const onehot = tf.oneHot(y, units);
        const t = s === 0 ? onehot : tf.add(tf.mul(onehot, 1 - s), s / units);
        dy = tf.div(tf.sub(tf.softmax(h), t), shard.total);
        if (loss.classWeights) {
          const w = tf.gather(tf.tensor1d(loss.classWeights, "float32"), y);
          dy = tf.mul(dy, tf.reshape(w, [-1, 1]));
        }
      } else {
        ({ loss: value, correct } = loss.compute(h, y));
        dy = tf.grad((out: tf.Tensor) => loss.compute(out, y).loss)(h);
        if (shard.rows !== shard.total) dy = tf.mul(dy, shard.rows / shard.total);
      }
      const grads: Record<string, tf.Tensor> = {};
      dys[n - 1] = dy;
      for (let i = n - 1; i >= 0; i--) {
        const g = dys[i];
        if (!needsGrad[i] || !g) continue;
        const ins = inputsOf[i]!;
        if (fused[i]) {
          // Its gradient is in the backward of the stage that applied it.
          accumulate(ins[0]!, g);
          continue;
        }
        const dxs = backwards[i]!(g, grads, needDx[i]!);
        if (!dxs) continue;
        for (let k = 0; k < ins.length; k++) if (needsGrad[ins[k]!]) accumulate(ins[k]!, dxs[k]!);
      }
      if (penalties.length > 0) {
        // The loss here is this share's mean (its threads weigh it by rows / total): the whole penalty goes in
        // it; the gradients are this share's part of the batch's: so is the penalty's.
        value = tf.add(value, penaltyValue(penalties)) as tf.Scalar;
        addPenaltyGradients(penalties, grads, shard.rows / shard.total);
      }
      return { loss: value, correct, grads, bnStats: ctx.bnStats };
    } finally {
      outs.fill(undefined);
      backwards.fill(undefined);
      dys.fill(undefined);
    }
  };
}

/** Logits up to this many values (batch x classes) take the JS head below; larger ones stay tf kernels. */
const JS_HEAD_MAX_VALUES = 1 << 16;

/**
 * Softmax cross-entropy from logits, in JS over the logits' values: the loss over these rows, sum(w_i loss_i) /
 * rows, the correct count (argmax, first of ties, as tf.argMax) and dz = w_i (softmax(z) - t) / total, with
 * targets t = (1 - s) onehot + s / units (Keras' label_smoothing s) and w_i the class weight of row i's label (1
 * without). As tf ops this is ~20 kernels on a [batch, 10] tensor (log-softmax, softmax, two one-hots, argmax,
 * equal, casts, sums) whose dispatch, not arithmetic, cost ~14% of the MLP's batch-32 step on wasm; here it is
 * one read and one upload. Float64 inside, so at least as exact as the kernels.
 */
function softmaxCrossEntropyHead(
  z: tf.Tensor,
  labels: tf.Tensor1D,
  total: number,
  options: { labelSmoothing: number; classWeights?: Float32Array },
) {
  const [rows, units] = [z.shape[0]!, z.shape.at(-1)!];
  const logits = z.dataSync() as Float32Array;
  const y = labels.dataSync() as Int32Array;
  const dz = new Float32Array(logits.length);
  const s = options.labelSmoothing;
  const weights = options.classWeights;
  const [on, off] = [1 - s + s / units, s / units];
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < rows; i++) {
    const row = logits.subarray(i * units, (i + 1) * units);
    let best = 0;
    for (let j = 1; j < units; j++) if (row[j]! > row[best]!) best = j;
    const max = row[best]!;
    let sum = 0;
    let all = 0;
    for (let j = 0; j < units; j++) {
      sum += Math.exp(row[j]! - max);
      all += row[j]!;
    }
    const label = y[i]!;
    const w = weights ? weights[label]! : 1;
    // A label outside [0, units) is refused before training (E506): it cannot reach here.
    // -sum_k t_k log softmax(z)_k = log(sum) + max - ((1 - s) z_label + (s / units) sum_k z_k)
    const picked = s === 0 ? row[label]! : (1 - s) * row[label]! + (s / units) * all;
    loss += w * (Math.log(sum) + max - picked);
    if (best === label) correct++;
    for (let j = 0; j < units; j++) {
      const t = s === 0 ? (j === label ? 1 : 0) : j === label ? on : off;
      dz[i * units + j] = (w * (Math.exp(row[j]! - max) / sum - t)) / total;
    }
  }
  return {
    loss: tf.scalar(loss / rows),
    correct: tf.scalar(correct),
    dy: tf.tensor(dz, z.shape, "float32"),
  };
}
