// Label smoothing and class weights in the loss (src/lower/loss.ts, src/train/class-weights.ts) against the
// formulas written out here: Keras' label_smoothing (keras/src/losses/losses.py: categorical targets
// y (1 - s) + s / num_classes, binary y (1 - s) + 0.5 s) and class weights as per-sample weights reduced by
// sum_over_batch_size (keras/src/losses/loss.py reduce_values: sum(w_i l_i) / batch size), balanced weights as
// scikit-learn's n_samples / (n_classes * count).
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { lowerLoss } from "../../src/lower/loss.ts";
import { Network } from "../../src/lower/network.ts";
import { classWeightTable } from "../../src/train/class-weights.ts";
import { program, useBackend } from "./helpers.ts";

const Loss = suite("label smoothing and class weights: the loss against its formula");
Loss.before(() => useBackend("wasm"));

const Z = [
  [2.0, -1.0, 0.5],
  [0.1, 0.2, 3.0],
  [-1.0, 1.5, 0.0],
  [0.3, 0.3, -0.7],
];
const Y = [0, 2, 1, 1];

/** -sum_k t_k log softmax(z)_k per row, t = (1 - s) onehot + s / K, in float64. */
function smoothedCE(z: number[][], y: number[], s: number): number[] {
  return z.map((row, i) => {
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    return -row.reduce((a, v, k) => a + ((k === y[i] ? 1 - s : 0) + s / row.length) * (v - lse), 0);
  });
}

const lossOf = (source: string, z: number[][], y: number[], weights?: Float32Array) => {
  const p = program(source);
  const net = new Network(p.models[0]!, 1);
  const lowered = lowerLoss(net, p.train.loss, weights);
  const out = tf.tidy(() => lowered.compute(tf.tensor2d(z), tf.tensor1d(y, "int32")).loss.dataSync()[0]!);
  net.dispose();
  return out;
};

Loss("categorical cross-entropy with label_smoothing=0.1, linear and softmax outputs", () => {
  const want = smoothedCE(Z, Y, 0.1).reduce((a, b) => a + b) / Z.length;
  const logits = lossOf("input 3; dense 3\ntrain { loss crossentropy label_smoothing=0.1 }", Z, Y);
  assert.ok(Math.abs(logits - want) < 1e-6, `${logits} vs ${want}`);
  // A softmax output is trained from its logits (the network stops before the softmax): the same formula.
  const fromSoftmax = lossOf(
    "input 3; dense 3 softmax\ntrain { loss crossentropy label_smoothing=0.1 }",
    Z,
    Y,
  );
  assert.ok(Math.abs(fromSoftmax - want) < 1e-6, `${fromSoftmax} vs ${want}`);
  // Without smoothing it is another number: the option is applied.
  const plain = lossOf("input 3; dense 3\ntrain { loss crossentropy }", Z, Y);
  assert.ok(Math.abs(plain - want) > 1e-3);
});

Loss("binary cross-entropy with label_smoothing=0.2: targets y (1 - s) + s / 2", () => {
  const z = [[0.5], [-2.0], [1.5]];
  const y = [1, 0, 0];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const want =
    z.reduce((a, [v], i) => {
      const t = y[i]! * 0.8 + 0.1;
      return a - (t * Math.log(sig(v!)) + (1 - t) * Math.log(1 - sig(v!)));
    }, 0) / z.length;
  const got = lossOf("input 3; dense 1\ntrain { loss binary_crossentropy label_smoothing=0.2 }", z, y);
  assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
});

Loss("class weights: sum(w_i loss_i) / batch, by hand", () => {
  const w = Float32Array.of(1, 3, 0.5);
  const per = smoothedCE(Z, Y, 0);
  const want = per.reduce((a, l, i) => a + w[Y[i]!]! * l, 0) / Z.length;
  const got = lossOf("input 3; dense 3", Z, Y, w);
  assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
  // With smoothing too, and on mse (per-sample mean over units, then weighted).
  const both = smoothedCE(Z, Y, 0.2).reduce((a, l, i) => a + w[Y[i]!]! * l, 0) / Z.length;
  const gotBoth = lossOf("input 3; dense 3\ntrain { loss crossentropy label_smoothing=0.2 }", Z, Y, w);
  assert.ok(Math.abs(gotBoth - both) < 1e-6, `${gotBoth} vs ${both}`);
  const mse =
    Z.reduce(
      (a, r, i) => a + (w[Y[i]!]! * r.reduce((s, v, k) => s + (v - (k === Y[i] ? 1 : 0)) ** 2, 0)) / 3,
      0,
    ) / Z.length;
  const gotMse = lossOf("input 3; dense 3 tanh\ntrain { loss mse }", Z, Y, w);
  assert.ok(Math.abs(gotMse - mse) < 1e-6, `${gotMse} vs ${mse}`);
});

Loss(
  "balanced class weights: n_samples / (n_classes * count), over the classes present; given ones default to 1",
  () => {
    // 6 labels: class 0 x3, class 1 x2, class 3 x1 (class 2 absent): 6 / (3 * 3), 6 / (3 * 2), 1, 6 / (3 * 1).
    const labels = Int32Array.of(0, 1, 0, 3, 1, 0);
    const table = classWeightTable({ mode: "balanced" }, labels, 6, 4, "test")!;
    assert.equal(Array.from(table), [6 / 9, 1, 1, 2].map(Math.fround));
    // Only the first `count` labels are the training split's.
    assert.equal(Array.from(classWeightTable({ mode: "balanced" }, labels, 2, 4, "test")!), [1, 1, 1, 1]);
    const given = classWeightTable({ mode: "given", weights: { "0": 1, "2": 2.5 } }, labels, 6, 4, "test")!;
    assert.equal(Array.from(given), [1, 1, 2.5, 1]);
    assert.is(classWeightTable(undefined, labels, 6, 4, "test"), undefined);
    assert.throws(
      () => classWeightTable({ mode: "given", weights: { "7": 2 } }, labels, 6, 4, "test"),
      /E333|class 7/,
    );
  },
);

Loss.run();
