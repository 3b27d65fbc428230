// Folding batchnorm into the preceding dense/conv2d for inference: predictions equal the unfolded model's to 1e-5
// (MLP with dense [N, C] batchnorm, convnet with NHWC batchnorm, with and without gamma/beta/bias, residual
// graphs where a folded batchnorm's consumers are rewired and a producer with two consumers keeps its
// batchnorm), the folded program has no foldable batchnorm left and Keras parameter counts for what it has.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkProgram } from "../../src/check/check.ts";
import { foldBatchNorm } from "../../src/lower/fold-bn.ts";
import { buildModel } from "../../src/lower/model.ts";
import { Random } from "../../src/util/random.ts";
import type { WeightData } from "../../src/runtime/types.ts";
import type { Program } from "../../src/ir/schema.ts";
import { graphProgram, node, projectionBlock, residualBlock } from "../lower/graph-helpers.ts";
import { closeness, program, useBackend, values } from "../lower/helpers.ts";

const Fold = suite("fold batchnorm for inference");
Fold.before(() => useBackend("wasm"));

/** Trained-looking batchnorm weights: gamma, beta, moving statistics away from their initial 1, 0, 0, 1. */
function perturb(weights: Record<string, WeightData>, rng: Random): Record<string, WeightData> {
  const out: Record<string, WeightData> = {};
  for (const [name, w] of Object.entries(weights)) {
    const data = Float32Array.from(w.data);
    if (/moving_variance|gamma/.test(name))
      for (let i = 0; i < data.length; i++) data[i] = 0.2 + 2 * rng.next();
    else if (/moving_mean|beta|bias/.test(name)) for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    out[name] = { shape: w.shape, data };
  }
  return out;
}

const CASES: Array<[string, () => Program, number]> = [
  [
    "notebook BN MLP",
    () =>
      program("input 28x28; flatten; dense 32; batchnorm; relu; dense 16; batchnorm; relu; dense 10 softmax"),
    2,
  ],
  [
    "convnet, NHWC batchnorm, no gamma / no beta / no bias",
    () =>
      program(
        "input 8x8x2; conv2d 4 3x3 padding=same bias=false; batchnorm scale=false; relu; maxpool 2x2; conv2d 3 3x3; batchnorm center=false; relu; flatten; dense 8; batchnorm; relu; dense 3 softmax",
      ),
    3,
  ],
  [
    // Every batchnorm's producer feeds it alone: all four fold, and the adds take the folded convolutions.
    "residual graph: identity and projection blocks",
    () =>
      graphProgram([
        node.input("x", [6, 6, 2]),
        node.conv2d("stem", "x", 4, { activation: "relu" }),
        ...residualBlock("a", "stem", 4),
        ...projectionBlock("b", "a_out", 8),
        node.globalavgpool("gap", "b_out"),
        node.dense("out", "gap", 3, "softmax"),
      ]),
    5,
  ],
  [
    // `d` feeds its batchnorm and the add: that batchnorm stays (the add needs d's values unnormalized).
    "a producer with two consumers keeps its batchnorm",
    () =>
      graphProgram([
        node.input("x", [6]),
        node.dense("d", "x", 8),
        node.batchnorm("bn", "d"),
        node.relu("r", "bn"),
        node.add("sum", ["r", "d"]),
        node.dense("e", "sum", 8),
        node.batchnorm("bn_e", "e"),
        node.dense("out", "bn_e", 3, "softmax"),
      ]),
    1,
  ],
];

for (const [name, make, count] of CASES) {
  Fold(name, () => {
    const p = make();
    const model = buildModel(p, { backend: "wasm" });
    const initial = Object.fromEntries(
      Object.entries(model.getWeights()).map(([k, t]) => [
        k,
        { shape: [...t.shape], data: Float32Array.from(t.dataSync()) },
      ]),
    );
    const weights = perturb(initial, new Random(2));
    model.setWeights(weights);
    const folded = foldBatchNorm(p, weights);
    assert.is(folded.folded.length, count);
    assert.not.ok(folded.program.models[0]!.layers.some((l) => folded.folded.includes(l.name)));
    if (name.startsWith("residual")) {
      const add = folded.program.models[0]!.layers.find((l) => l.name === "b_add")!;
      assert.equal(add.inputs, ["b_conv2", "b_proj"], "the add takes the folded convolutions");
    }
    const foldedModel = buildModel(folded.program, { backend: "wasm" });
    foldedModel.setWeights(folded.weights);
    const shape =
      folded.program.models[0]!.layers[0]!.op === "input" ? folded.program.models[0]!.layers[0]!.shape : [];
    const rng = new Random(5);
    const x = tf.tensor(
      Float32Array.from({ length: 16 * shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
      [16, ...shape],
    );
    const a = model.predict(x);
    const b = foldedModel.predict(x);
    const worst = closeness(values(b), values(a), 1e-5, 1e-6);
    assert.ok(worst <= 1, `folded predictions differ: worst ${worst}`);
    // Parameter counts, recomputed by the checker rather than read from foldBatchNorm's output: the unfolded
    // counts without the folded batchnorms, plus a bias for each layer that took one and had none.
    const checked = checkProgram(folded.program);
    assert.equal(
      checked.diagnostics.filter((d) => d.severity === "error"),
      [],
    );
    const layers = p.models[0]!.layers;
    const expected = { trainable: 0, nonTrainable: 0 };
    layers.forEach((l) => {
      if (l.op === "batchnorm" && folded.folded.includes(l.name)) {
        const before = layers.find((b) => b.name === l.inputs[0])!;
        if ((before.op === "dense" || before.op === "conv2d") && !before.useBias) {
          expected.trainable += before.outputShape!.at(-1)!;
        }
        return;
      }
      expected.trainable += l.params!.trainable;
      expected.nonTrainable += l.params!.nonTrainable;
    });
    const sum = (key: "trainable" | "nonTrainable") =>
      checked.program.models[0]!.layers.reduce((n, l) => n + l.params![key], 0);
    assert.equal({ trainable: sum("trainable"), nonTrainable: sum("nonTrainable") }, expected);
    // And every count is what the folded weights hold.
    const held = Object.values(folded.weights).reduce((n, w) => n + w.data.length, 0);
    assert.is(sum("trainable") + sum("nonTrainable"), held);
    tf.dispose([x, a, b]);
    model.dispose();
    foldedModel.dispose();
  });
}

Fold.run();
