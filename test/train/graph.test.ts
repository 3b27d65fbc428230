// Training graph models (add, concat, residual blocks): two data-parallel threads train to what one thread
// trains (every weight, moving statistics included, and every epoch's figures, up to float rounding; the
// per-epoch check that the threads' weights are equal passes); exact population statistics are computed node by
// node in node order; a residual model trains through fitNetwork and its saved Keras functional model and
// folded inference export predict what nnc predicts.
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Dataset, Split } from "../../src/data/types.ts";
import type { Program } from "../../src/ir/schema.ts";
import { lowerLoss, modelLoss } from "../../src/lower/loss.ts";
import { buildModel } from "../../src/lower/model.ts";
import { Network, type BatchNormNode } from "../../src/lower/network.ts";
import type { EpochRecord, History } from "../../src/runtime/types.ts";
import { INFERENCE_DIR, saveModel } from "../../src/save/index.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { recomputePopulationStatistics } from "../../src/train/population-stats.ts";
import { removeTempDirs, tempDir } from "../helpers.ts";
import { loadKerasModel } from "../save/keras-loader.ts";
import { GRAPHS, graphProgram, node, projectionBlock, residualBlock } from "../lower/graph-helpers.ts";
import { blobs, closeness, dataset, useBackend, values, weightsOf } from "../lower/helpers.ts";

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Separable blobs shaped as the model's input: `count` training and count / 3 validation samples. */
function blobData(shape: number[], count: number, seed = 3): Dataset {
  const dims = sizeOf(shape);
  const held = Math.ceil(count / 3);
  const all = blobs(count + held, 3, dims, seed);
  const cut = (from: number, to: number): Split => ({
    x: all.x.slice(from * dims, to * dims),
    scale: 1,
    y: all.y.slice(from, to),
    count: to - from,
  });
  return dataset(cut(0, count), cut(count, count + held), shape, 3);
}

const figures = (h: History) =>
  h.epochs.flatMap((e: EpochRecord) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]);

const Parallel = suite("data-parallel training of graphs == one thread");
Parallel.before(() => useBackend("wasm"));

// Plain SGD (Adam's normalisation hides a gradient off by a constant factor); batch 7: shares of 4 and 3 rows.
const SGD = {
  optimizer: { type: "sgd", lr: 0.05, momentum: 0, nesterov: false },
  batch: 7,
  epochs: 2,
  seed: 5,
};

for (const [name, layers, shape] of GRAPHS) {
  Parallel(name, async () => {
    const program = graphProgram(layers, SGD);
    const data = blobData(shape, 84);
    const train = async (threads: number) => {
      const m = buildModel(program, { backend: "wasm" });
      // verify() after every epoch throws if the threads' copies of the weights differ.
      const history = await m.fit(data, { threads });
      const weights = weightsOf(m);
      m.dispose();
      return { history, weights };
    };
    const one = await train(1);
    const two = await train(2);
    assert.is(one.history.threads, 1);
    assert.is(two.history.threads, 2, `two threads ran (notes: ${two.history.notes})`);
    const f = closeness(figures(two.history), figures(one.history), 1e-4, 1e-6);
    assert.ok(f <= 1, `history differs beyond float rounding (${f})`);
    for (const [w, v] of Object.entries(one.weights)) {
      const c = closeness(two.weights[w]!, v, 1e-4, 1e-5);
      assert.ok(c <= 1, `${w} differs beyond float rounding (${c})`);
    }
    // The runs trained: the weights left their initial values.
    const initial = buildModel(program, { backend: "wasm" });
    assert.not.equal(weightsOf(initial)["out/kernel"], one.weights["out/kernel"]);
    initial.dispose();
  });
}

Parallel.run();

const Stats = suite("population statistics on graphs");
Stats.before(() => useBackend("wasm"));

/** A batchnorm's moving statistics equal the float64 mean and biased variance of its inputs `h`. */
function assertPopulationStatistics(bn: BatchNormNode, h: number[]): void {
  const channels = bn.weights.movingMean.shape[0]!;
  const n = h.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  h.forEach((v, i) => (mean[i % channels] += v / n));
  h.forEach((v, i) => (variance[i % channels] += (v - mean[i % channels]!) ** 2 / n));
  const m = closeness(values(bn.weights.movingMean), mean, 1e-4, 1e-5);
  const v = closeness(values(bn.weights.movingVariance), variance, 1e-4, 1e-5);
  assert.ok(m <= 1 && v <= 1, `${bn.layer.name}: mean ${m}, variance ${v}`);
}

Stats("node by node in node order, each batchnorm's input from the ones before it in inference mode", () => {
  const p = graphProgram([
    node.input("x", [6, 6, 2]),
    node.conv2d("stem", "x", 4),
    node.batchnorm("stem_bn", "stem"),
    node.relu("stem_relu", "stem_bn"),
    ...residualBlock("a", "stem_relu", 4),
    ...projectionBlock("b", "a_out", 8),
    node.globalavgpool("gap", "b_out"),
    node.dense("out", "gap", 3, "softmax"),
  ]);
  const net = new Network(p.models[0]!, 3);
  const split: Split = blobs(40, 3, 72, 6);
  recomputePopulationStatistics(net, split, 16);
  assert.equal(
    net.batchNorms.map((b) => b.layer.name),
    ["stem_bn", "a_bn1", "a_bn2", "b_bn1", "b_bn2", "b_proj_bn"],
  );
  const x = tf.tensor4d(split.x, [40, 6, 6, 2]);
  for (const bn of net.batchNorms) {
    // `stop`: the batchnorm's input, every batchnorm before it normalizing by the statistics just computed. Had
    // they been computed out of order, a later batchnorm's would be of inputs normalized by (0, 1).
    const h = tf.tidy(() => values(net.forward(x, { training: false, stop: bn.index })));
    assertPopulationStatistics(bn, h);
  }
  // The statistics are not the initial (0, 1).
  assert.ok(values(net.batchNorms[5]!.weights.movingVariance).some((v) => Math.abs(v - 1) > 1e-3));
  x.dispose();
  net.dispose();
});

Stats("stop runs only what the node depends on and returns its input", () => {
  const p = graphProgram([
    node.input("x", [4]),
    node.dense("a", "x", 3),
    node.dense("b", "x", 3),
    node.batchnorm("bn", "b"),
    node.add("sum", ["a", "bn"]),
    node.dense("out", "sum", 2, "softmax"),
  ]);
  const net = new Network(p.models[0]!, 1);
  const x = tf.tensor2d([1, 2, 3, 4, -1, 0, 1, 2], [2, 4]);
  tf.tidy(() => {
    const kernel = net.weight("b/kernel")!.variable;
    const expected = values(tf.add(tf.matMul(x, kernel), net.weight("b/bias")!.variable));
    const h = values(net.forward(x, { training: false, stop: 3 }));
    assert.ok(closeness(h, expected, 1e-6, 1e-6) <= 1, "bn's input: b's output");
    assert.equal(
      values(net.forward(x, { training: false, stop: 0 })),
      values(x),
      "the input node's: the batch",
    );
    assert.equal(net.forward(x, { training: false, stop: 6 }).shape, [2, 2], "all nodes: the output");
  });
  x.dispose();
  net.dispose();
});

Stats.run();

const Fit = suite("graph models train and save");
Fit.before(() => useBackend("wasm"));
Fit.after(removeTempDirs);

const RESIDUAL: Program = graphProgram(
  [
    node.input("x", [6, 6, 1]),
    node.conv2d("stem", "x", 4),
    node.batchnorm("stem_bn", "stem", 0.9),
    node.relu("stem_relu", "stem_bn"),
    ...residualBlock("a", "stem_relu", 4),
    ...projectionBlock("b", "a_out", 8),
    node.concat("joined", ["b_out", "b_relu1"]),
    node.globalavgpool("gap", "joined"),
    node.dropout("drop", "gap", 0.2),
    node.dense("out", "drop", 3, "softmax"),
  ],
  { batch: 16, epochs: 4, seed: 2 },
);

Fit(
  "a residual model with a concat trains through fitNetwork on the compiled step: the loss falls",
  async () => {
    const m = buildModel(RESIDUAL, { backend: "wasm" });
    const net = (m as unknown as { net: Network }).net;
    assert.ok(
      manualGradients(net, lowerLoss(net, modelLoss(net.model, RESIDUAL.train.loss))),
      "compiled step",
    );
    const h = await m.fit(blobData([6, 6, 1], 96, 8), { threads: 1 });
    const losses = h.epochs.map((e) => e.loss);
    assert.ok(losses.at(-1)! < losses[0]!, `loss falls: ${losses}`);
    assert.ok(h.epochs.at(-1)!.valAccuracy > 0.5, `validation accuracy ${h.epochs.at(-1)!.valAccuracy}`);
    m.dispose();
  },
);

Fit(
  "tf.loadLayersModel of the saved functional model and of its folded inference export predict what nnc predicts",
  async () => {
    const m = buildModel(RESIDUAL, { backend: "wasm" });
    await m.fit(blobData([6, 6, 1], 64, 9), { train: { epochs: 1 } });
    const dir = tempDir("graph");
    saveModel(m, dir, {});
    const rng = Array.from({ length: 5 * 36 }, (_, i) => Math.sin(i * 12.9898) * 1.5);
    const x = tf.tensor4d(rng, [5, 6, 6, 1]);
    const ours = m.predict(x);
    const keras = await loadKerasModel(dir);
    assert.is(keras.getClassName(), "Functional");
    const kerasOut = keras.predict(x) as tf.Tensor;
    const diff = closeness(values(kerasOut), values(ours), 0, 1e-5);
    assert.ok(diff <= 1, `tf.loadLayersModel: worst ${diff}`);
    const inference = await loadKerasModel(join(dir, INFERENCE_DIR));
    const classes = inference.layers.map((l) => l.getClassName());
    assert.not.ok(classes.includes("BatchNormalization"), classes.join(", "));
    assert.is(inference.layers.length, keras.layers.length - 6, "six batchnorms folded");
    const folded = inference.predict(x) as tf.Tensor;
    const foldedDiff = closeness(values(folded), values(ours), 0, 1e-5);
    assert.ok(foldedDiff <= 1, `inference export: worst ${foldedDiff}`);
    tf.dispose([x, ours, kerasOut, folded]);
    inference.dispose();
    keras.dispose();
    m.dispose();
  },
);

Fit.run();
