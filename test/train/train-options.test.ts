// Training with weight decay, AdamW, clipping, L2 kernel regularizers, label smoothing and class weights, end to
// end through fit: the compiled step on one thread equals the autograd path (the oracle), two threads equal one
// to 1e-5, and each option changes the run (each comparison can fail).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Dataset } from "../../src/data/types.ts";
import { buildModel } from "../../src/lower/model.ts";
import { opOf } from "../../src/ops/index.ts";
import type { EpochRecord, FitOptions, History } from "../../src/runtime/types.ts";
import { blobData, closeness, program, useBackend, values, weightsOf } from "../lower/helpers.ts";

const figures = (h: History) =>
  h.epochs.flatMap((e: EpochRecord) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]);

async function train(source: string, data: Dataset, options: FitOptions & { gradients?: "autograd" }) {
  const m = buildModel(program(source), { backend: "wasm" });
  const history = await m.fit(data, options);
  const weights = weightsOf(m);
  m.dispose();
  return { history, weights };
}

/** `a` and `b` agree in every weight (to rtol, or atol absolute) and every epoch's figures (to rtol). */
function assertSame(
  a: Awaited<ReturnType<typeof train>>,
  b: typeof a,
  rtol: number,
  atol: number,
  what: string,
) {
  const f = closeness(figures(a.history), figures(b.history), rtol, 1e-6);
  assert.ok(f <= 1, `${what}: history differs (${f}): ${figures(a.history)} vs ${figures(b.history)}`);
  for (const [name, w] of Object.entries(b.weights)) {
    const c = closeness(a.weights[name]!, w, rtol, atol);
    assert.ok(c <= 1, `${what}: ${name} differs (${c})`);
  }
}

const MODEL = "input 4; dense 16 l2=0.01; batchnorm; relu; dense 8; relu; dense 3 softmax";
const spec = (lines: string) =>
  `${MODEL}\ntrain {\n  data mnist\n  batch 9\n  epochs 2\n  seed 3\n${lines}\n}`;

/** Options, each alone and some together, as a spec writes them. */
export const OPTION_CASES: Array<[string, string]> = [
  ["adamw", "  optimizer adamw lr=0.01 weight_decay=0.1"],
  ["sgd weight_decay + clipnorm", "  optimizer sgd lr=0.1 momentum=0.9 weight_decay=0.01 clipnorm=0.5"],
  ["adam clipvalue", "  optimizer adam lr=0.01 clipvalue=0.05"],
  ["rmsprop global_clipnorm", "  optimizer rmsprop lr=0.01 global_clipnorm=0.3"],
  [
    "label smoothing, balanced class weights",
    "  optimizer sgd lr=0.1\n  loss crossentropy label_smoothing=0.1\n  class_weight balanced",
  ],
  ["given class weights", "  optimizer sgd lr=0.1\n  class_weight 0=1.0 2=3.5"],
];

/** The training split with two of every three class-2 samples left out: class weights then matter. */
function imbalanced(data: Dataset): Dataset {
  const { x, y, count, scale } = data.train;
  const dims = x.length / count;
  const keep = [...Array(count).keys()].filter((i) => y[i] !== 2 || i % 9 === 2);
  const train = {
    x: Float32Array.from(keep.flatMap((i) => [...x.subarray(i * dims, (i + 1) * dims)])),
    y: Int32Array.from(keep.map((i) => y[i]!)),
    count: keep.length,
    scale,
  };
  return { ...data, train };
}

const Equal = suite("training options: compiled == autograd, two threads == one");
Equal.before(() => useBackend("wasm"));

for (const [name, lines] of OPTION_CASES) {
  Equal(name, async () => {
    const data = imbalanced(blobData(180));
    const source = spec(lines);
    const oracle = await train(source, data, { threads: 1, gradients: "autograd" });
    const one = await train(source, data, { threads: 1 });
    const two = await train(source, data, { threads: 2 });
    assert.is(two.history.threads, 2);
    // Step by step the gradients agree to 1e-5 relative or 1e-6 absolute (test/speed/compiled-step-options.test.ts).
    // Adam's step m / (sqrt(v) + epsilon) depends on a gradient's size only where |g| is near epsilon / sqrt(1 -
    // beta2) ~ 3e-6: there a rounding difference of 4e-8 in a gradient of 1e-5 (measured, dense/kernel, first step)
    // moves a weight by 6e-6 instead of a few ulp. Hence an absolute 1e-5 on weights (lr 0.01) besides 1e-5 relative.
    assertSame(one, oracle, 1e-5, 1e-5, "compiled vs autograd");
    assertSame(two, one, 1e-5, 1e-5, "two threads vs one");
    // The option matters: without it the run ends elsewhere.
    const plain = await train(spec("  optimizer sgd lr=0.1"), data, { threads: 1 });
    assert.ok(
      closeness(figures(one.history), figures(plain.history), 1e-3, 1e-6) > 1,
      "the option changes the run",
    );
  });
}

Equal.run();

const L2 = suite("l2 kernel regularizers (Keras kernel_regularizer=L2)");
L2.before(() => useBackend("wasm"));

L2(
  "the penalty l2 * sum(kernel^2) is in the evaluation loss and the Keras config; biases are not in it",
  async () => {
    const source = "input 4; dense 5 l2=0.3; relu; dense 3 softmax l2=0.02";
    const data = blobData(60);
    const with_ = buildModel(program(source), { backend: "wasm", seed: 1 });
    const without = buildModel(program(source.replaceAll(/ l2=[0-9.]+/g, "")), { backend: "wasm", seed: 1 });
    const w = with_.getWeights();
    const sq = (name: string) => values(w[name]!).reduce((s, v) => s + v * v, 0);
    // keras/src/regularizers/regularizers.py L2.__call__: l2 * ops.sum(ops.square(x))
    const penalty = 0.3 * sq("dense/kernel") + 0.02 * sq("dense_1/kernel");
    const a = with_.evaluate(data.validation).loss;
    const b = without.evaluate(data.validation).loss;
    assert.ok(Math.abs(a - b - penalty) < 1e-5 * penalty, `${a} - ${b} vs ${penalty}`);
    const dense = with_.model.layers.find((l) => l.name === "dense")!;
    assert.equal(opOf(dense).kerasConfig(dense).kernel_regularizer, {
      class_name: "L1L2",
      config: { l1: 0, l2: 0.3 },
    });
    const plain = without.model.layers.find((l) => l.name === "dense")!;
    assert.is(opOf(plain).kerasConfig(plain).kernel_regularizer, null);
    with_.dispose();
    without.dispose();
  },
);

L2(
  "the reported training loss includes the penalty (the first step's loss is the penalty's plus the data's)",
  async () => {
    const source = (l2: string) =>
      `input 4; dense 5 ${l2}; relu; dense 3 softmax\ntrain {\n  sgd lr=1e-9\n  batch 60\n  epochs 1\n  shuffle false\n}`;
    const data = blobData(60);
    const a = buildModel(program(source("l2=0.5")), { backend: "wasm", seed: 2 });
    const b = buildModel(program(source("")), { backend: "wasm", seed: 2 });
    const penalty = 0.5 * values(a.getWeights()["dense/kernel"]!).reduce((s, v) => s + v * v, 0);
    const ha = await a.fit(data, { threads: 1 });
    const hb = await b.fit(data, { threads: 1 });
    // One step at lr 1e-9 over the whole training set: the weights barely move.
    const diff = ha.epochs[0]!.loss - hb.epochs[0]!.loss;
    assert.ok(Math.abs(diff - penalty) < 1e-4 * penalty, `${diff} vs ${penalty}`);
    a.dispose();
    b.dispose();
  },
);

L2.run();
