// Augmentation in training (src/data/augment.ts through fit): it changes what trains; it never reaches
// validation, evaluation or exact batchnorm statistics; two threads train as one does (the main thread augments
// the whole batch before the split); a resumed run equals an uninterrupted one; non-image input is E647.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Dataset, Split } from "../../src/data/types.ts";
import { NncError } from "../../src/diagnostics/index.ts";
import { buildModel } from "../../src/lower/model.ts";
import type { Network } from "../../src/lower/network.ts";
import type { CompiledModel, TrainState } from "../../src/runtime/types.ts";
import {
  blobData,
  blobs,
  closeness,
  dataset,
  program,
  useBackend,
  values,
  weightsOf,
  withoutTimings,
} from "../lower/helpers.ts";

const images = (count: number, seed: number): Split => blobs(count, 3, 36, seed);
const DATA = (): Dataset => dataset(images(97, 3), images(30, 4), [6, 6, 1], 3);

const CONV = (train: string) =>
  program(`input 6x6x1; conv2d 4 3x3 padding=same; batchnorm; relu; maxpool 2x2; flatten; dense 3 softmax
train {
  data mnist
  optimizer sgd lr=0.1
  batch 8
  epochs 2
  seed 5
  ${train}
}`);
const AUGMENT = "augment flip=horizontal rotate=30 zoom=0.1 translate=0.1 crop=1";

async function train(train: string, options: Parameters<CompiledModel["fit"]>[1] = {}) {
  const m = buildModel(CONV(train), { backend: "wasm" });
  const history = await m.fit(DATA(), options);
  return { m, history };
}

const Fit = suite("augmentation in training");
Fit.before(() => useBackend("wasm"));

Fit("it changes the training (loss, weights); same seed twice is identical", async () => {
  const plain = await train("");
  const a = await train(AUGMENT);
  const b = await train(AUGMENT);
  assert.not.equal(weightsOf(a.m), weightsOf(plain.m));
  assert.not.equal(a.history.epochs[0]!.loss, plain.history.epochs[0]!.loss);
  assert.equal(weightsOf(a.m), weightsOf(b.m));
  assert.equal(withoutTimings(a.history.epochs), withoutTimings(b.history.epochs));
  const other = await train(AUGMENT, { train: { seed: 6 } });
  assert.not.equal(weightsOf(other.m), weightsOf(a.m));
  for (const r of [plain, a, b, other]) r.m.dispose();
});

Fit(
  "not applied at validation or evaluation: the epoch's figures equal evaluate() on the data as it is",
  async () => {
    const { m, history } = await train(AUGMENT + "\n  bnstats ema");
    const data = DATA();
    const last = history.epochs.at(-1)!;
    const val = m.evaluate(data.validation);
    assert.is(val.loss, last.valLoss);
    assert.is(val.accuracy, last.valAccuracy);
    m.dispose();
  },
);

Fit(
  "not applied to exact batchnorm statistics: they are those of the training images as they are",
  async () => {
    const { m } = await train(AUGMENT + "\n  bnstats exact");
    const data = DATA();
    const net = (m as unknown as { net: Network }).net;
    const node = net.batchNorms[0]!;
    const h = tf.tidy(() =>
      values(
        net.forward(tf.tensor4d(data.train.x, [data.train.count, 6, 6, 1]), {
          training: false,
          stop: node.index,
        }),
      ),
    );
    const channels = node.weights.movingMean.shape[0]!;
    const n = h.length / channels;
    const mean = Array.from({ length: channels }, (_, c) => {
      let s = 0;
      for (let i = c; i < h.length; i += channels) s += h[i]!;
      return s / n;
    });
    assert.ok(closeness(values(node.weights.movingMean), mean, 1e-4, 1e-5) <= 1, "population mean");
    m.dispose();
  },
);

Fit("a resumed run equals an uninterrupted one (draws are a function of seed, epoch and step)", async () => {
  let after1: TrainState | undefined;
  const whole = await train(AUGMENT, {
    onEpochEnd: (r, state) => void (r.epoch === 1 && (after1 = state())),
  });
  const resumed = buildModel(CONV(AUGMENT), { backend: "wasm" });
  const rest = await resumed.fit(DATA(), { resumeFrom: after1! });
  assert.equal(withoutTimings(rest.epochs), withoutTimings(whole.history.epochs));
  assert.equal(weightsOf(resumed), weightsOf(whole.m));
  whole.m.dispose();
  resumed.dispose();
});

Fit("two threads train as one does, up to float rounding", async () => {
  const one = await train(AUGMENT, { threads: 1 });
  const two = await train(AUGMENT, { threads: 2 });
  assert.is(two.history.threads, 2);
  const f = (h: typeof one.history) =>
    h.epochs.flatMap((e) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]);
  assert.ok(
    closeness(f(two.history), f(one.history), 1e-4, 1e-6) <= 1,
    `${f(two.history)} vs ${f(one.history)}`,
  );
  const w1 = weightsOf(one.m);
  const w2 = weightsOf(two.m);
  for (const [name, w] of Object.entries(w1))
    assert.ok(closeness(w2[name]!, w, 1e-4, 1e-5) <= 1, `${name} differs beyond float rounding`);
  // And the augmentation did act on both: without it the weights differ.
  const plain = await train("", { threads: 2 });
  assert.not.ok(closeness(weightsOf(plain.m)["conv2d/kernel"]!, w2["conv2d/kernel"]!, 1e-4, 1e-5) <= 1);
  for (const r of [one, two, plain]) r.m.dispose();
});

Fit("augmentation of a model without image input fails with E647 before training", async () => {
  // The checker says E340 for a spec; the API's train overrides reach fit unchecked.
  const m = buildModel(program("input 4; dense 3 softmax"), { backend: "wasm" });
  try {
    await m.fit(blobData(), { train: { augment: { flip: "horizontal" } } });
    assert.unreachable("trained");
  } catch (e) {
    assert.instance(e, NncError);
    assert.is((e as NncError).diagnostic.code, "E647");
    assert.match((e as NncError).message, /image input/);
  } finally {
    m.dispose();
  }
});

Fit.run();
