// The hand-written backward equals autograd (the oracle) to 1e-5: every gradient, the loss, the batch
// statistics, on networks with batchnorm (with and without gamma/beta), dropout, each supported activation and
// each loss; networks it does not cover fall back to autograd.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { lowerLoss } from "../../src/lower/loss.ts";
import { Network } from "../../src/lower/network.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { autogradGradients, type GradientFn } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { blobs, closeness, program, useBackend, values } from "../lower/helpers.ts";

const Manual = suite("hand-written backward vs autograd");
Manual.before(() => useBackend("wasm"));

function run(fn: GradientFn, x: tf.Tensor, y: tf.Tensor1D) {
  const kept: tf.Tensor[] = [];
  const out = tf.tidy(() => {
    const dropoutRng = (layer: string) => new Random(5).fork(`dropout:${layer}`);
    const g = fn({ x, y, dropoutRng }, kept);
    return {
      loss: values(g.loss)[0]!,
      correct: values(g.correct)[0]!,
      grads: Object.fromEntries(Object.entries(g.grads).map(([k, t]) => [k, values(t)])),
      stats: g.bnStats.map((s) => [...values(s.stats.mean), ...values(s.stats.variance)]),
    };
  });
  tf.dispose(kept);
  return out;
}

const CASES: Array<[string, string]> = [
  ["BN MLP, softmax CE", "input 6; dense 12; batchnorm; relu; dense 8; batchnorm; relu; dense 3 softmax"],
  [
    "dropout, tanh, sigmoid, no-bias dense",
    "input 6; dense 12 tanh; dropout 0.3; dense 8 sigmoid bias=false; dense 3 softmax",
  ],
  [
    "batchnorm without gamma / beta, unbiased",
    "input 2x3; flatten; dense 10; batchnorm center=false; relu; dense 7; batchnorm scale=false variance=unbiased; activation tanh; dense 3 softmax",
  ],
  ["binary cross-entropy from logits", "input 6; dense 8; batchnorm; relu; dense 1 sigmoid"],
  ["mse on a linear output", "input 6; dense 8 relu; dense 3; train { loss mse }"],
  // loss auto's pick for a linear output of class labels (src/ir/loss-rules.ts).
  ["cross-entropy from the logits of a linear output", "input 6; dense 8 relu; dense 3"],
  // Keras kernel_regularizer L2: its penalty in the loss, 2 l2 W in the kernels' gradients.
  ["l2 kernel regularizers", "input 6; dense 12 l2=0.05; batchnorm; relu; dense 3 softmax l2=0.2"],
  [
    "l2 on a convolution",
    "input 2x3x1; conv2d 8 2 padding=same l2=0.1; relu; flatten; dense 3 softmax l2=1e-3",
  ],
];

for (const [name, source] of CASES) {
  Manual(name, () => {
    const p = program(source);
    const net = new Network(p.models[0]!, 3);
    const loss = lowerLoss(net, p.train.loss);
    const manual = manualGradients(net, loss);
    assert.ok(manual, "covered by the hand-written backward");
    const data = blobs(24, 3, 6, 1);
    const binary = source.includes("sigmoid") && source.endsWith("1 sigmoid");
    const x = tf.tensor(data.x, [24, ...net.inputShape]);
    const y = tf.tensor1d(binary ? data.y.map((v) => v % 2) : data.y, "int32");
    const a = run(autogradGradients(net, loss), x, y);
    const m = run(manual!, x, y);
    assert.ok(Math.abs(a.loss - m.loss) <= 1e-5 * Math.abs(a.loss) + 1e-6, `loss ${a.loss} vs ${m.loss}`);
    assert.is(m.correct, a.correct);
    assert.equal(Object.keys(m.grads).sort(), Object.keys(a.grads).sort());
    for (const k of Object.keys(a.grads)) {
      assert.ok(
        closeness(m.grads[k]!, a.grads[k]!, 1e-5, 1e-5) <= 1,
        `${k}: worst ${closeness(m.grads[k]!, a.grads[k]!, 1e-5, 1e-5)}`,
      );
    }
    assert.equal(m.stats.length, a.stats.length);
    m.stats.forEach((s, i) => assert.ok(closeness(s, a.stats[i]!, 1e-6, 1e-7) <= 1));
    tf.dispose([x, y]);
    net.dispose();
  });
}

Manual("layers it does not cover keep autograd (avgpool, layernorm, gelu)", () => {
  for (const source of [
    "input 6x6x1; conv2d 2 3x3; avgpool 2x2; flatten; dense 3 softmax",
    "input 6; dense 4; layernorm; dense 3 softmax",
    "input 6; dense 4 gelu; dense 3 softmax",
  ]) {
    const p = program(source);
    const net = new Network(p.models[0]!, 3);
    assert.is(manualGradients(net, lowerLoss(net, p.train.loss)), undefined, source);
    net.dispose();
  }
});

Manual.run();
