// Folding batchnorm into the preceding dense/conv2d for inference: predictions equal the unfolded model's to 1e-5
// (MLP with dense [N, C] batchnorm, convnet with NHWC batchnorm, with and without gamma/beta/bias), the folded
// program has no foldable batchnorm left and Keras parameter counts for what it has.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkProgram } from "../../src/check/check.ts";
import { foldBatchNorm } from "../../src/lower/fold-bn.ts";
import { buildModel } from "../../src/lower/model.ts";
import { Random } from "../../src/util/random.ts";
import type { WeightData } from "../../src/runtime/types.ts";
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

const CASES: Array<[string, string, number]> = [
  [
    "notebook BN MLP",
    "input 28x28; flatten; dense 32; batchnorm; relu; dense 16; batchnorm; relu; dense 10 softmax",
    2,
  ],
  [
    "convnet, NHWC batchnorm, no gamma / no beta / no bias",
    "input 8x8x2; conv2d 4 3x3 padding=same bias=false; batchnorm scale=false; relu; maxpool 2x2; conv2d 3 3x3; batchnorm center=false; relu; flatten; dense 8; batchnorm; relu; dense 3 softmax",
    3,
  ],
];

for (const [name, source, count] of CASES) {
  Fold(name, () => {
    const p = program(source);
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
    layers.forEach((l, i) => {
      if (l.op === "batchnorm" && folded.folded.includes(l.name)) {
        const before = layers[i - 1]!;
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
