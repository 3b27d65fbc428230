// The public API as a user calls it: compile(source).build(), fit, evaluate, weights, save/load; and the
// runnable example in examples/ keeps working.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile, load, NncError } from "../../src/index.ts";
import type { Dataset } from "../../src/data/types.ts";

/** A path in this repository, whatever the working directory the tests run from. */
const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

const api = suite("public API");

const spec = `input 4
dense 8
batchnorm
relu
dense 3 softmax
train { batch 16; epochs 2; optimizer adam lr=0.01 }`;

// Three separable clusters in 4-D, made here so the test needs no data set.
function clusters(count: number): Dataset["train"] {
  const x = new Float32Array(count * 4);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = (j === y[i] ? 2 : 0) + Math.sin(i * 7 + j * 3) * 0.5;
  }
  return { x, scale: 1, y, count };
}

api("compile(source).build() trains, evaluates, exposes Keras-named weights, saves and loads", async () => {
  const compiled = compile(spec, { filename: "api.nn" });
  assert.ok(compiled.ok, JSON.stringify(compiled.diagnostics));
  const model = await compiled.build({ seed: 3, backend: "cpu" });
  assert.is(model.backend, "cpu");
  const data: Dataset = {
    source: "clusters",
    description: "synthetic",
    sampleShape: [4],
    numClasses: 3,
    train: clusters(96),
    validation: clusters(30),
    validationName: "test",
  };
  const history = await model.fit(data);
  assert.is(history.epochs.length, 2);
  const evaluation = model.evaluate(data.validation);
  assert.is(evaluation.samples, 30);
  assert.ok(evaluation.accuracy > 0.6, String(evaluation.accuracy));
  assert.equal(Object.keys(model.getWeights()).slice(0, 3), [
    "dense/kernel",
    "dense/bias",
    "batch_normalization/gamma",
  ]);

  const dir = mkdtempSync(join(tmpdir(), "nnc-api-"));
  await model.save(dir, { history });
  const restored = await load(dir, { backend: "cpu" });
  const x = tf.tensor(data.validation.x, [30, 4]);
  const a = model.predict(x).dataSync();
  const b = restored.predict(x).dataSync();
  assert.equal(Array.from(b), Array.from(a));

  // setWeights takes plain arrays too: zeroing the last kernel and bias makes every class equally likely.
  restored.setWeights({ "dense_1/kernel": new Float32Array(8 * 3), "dense_1/bias": [0, 0, 0] });
  const uniform = restored.predict(x).dataSync();
  assert.ok(Array.from(uniform).every((p) => Math.abs(p - 1 / 3) < 1e-6));
  tf.dispose(x);
  model.dispose();
  restored.dispose();
});

api("build() on a spec with errors throws the first error as an NncError", async () => {
  const compiled = compile("input 28x28\nconv2d 8 3x3\n");
  assert.is(compiled.ok, false);
  try {
    await compiled.build();
    assert.unreachable("build should throw");
  } catch (e) {
    assert.instance(e, NncError);
    assert.is((e as NncError).diagnostic.code, "E302");
  }
});

api("a model that does not train (a feature extractor) builds and predicts; fitting it is E306", async () => {
  const compiled = compile("input 5x5x3\nbatchnorm", { filename: "features.nn" });
  assert.ok(compiled.ok, JSON.stringify(compiled.diagnostics));
  const model = await compiled.build({ backend: "cpu" });
  const x = tf.ones([2, 5, 5, 3]);
  const y = model.predict(x);
  assert.equal(y.shape, [2, 5, 5, 3]);
  // Inference batchnorm with fresh statistics (mean 0, variance 1): x / sqrt(1 + 0.001).
  assert.ok(Math.abs(y.dataSync()[0]! - 1 / Math.sqrt(1.001)) < 1e-6);
  const data: Dataset = {
    source: "made here",
    description: "zeros",
    sampleShape: [5, 5, 3],
    numClasses: 2,
    train: { x: new Float32Array(4 * 75), scale: 1, y: new Int32Array(4), count: 4 },
    validation: { x: new Float32Array(2 * 75), scale: 1, y: new Int32Array(2), count: 2 },
    validationName: "test",
  };
  try {
    await model.fit(data);
    assert.unreachable("fit trained a model whose output no loss fits");
  } catch (e) {
    assert.instance(e, NncError);
    assert.is((e as NncError).diagnostic.code, "E306");
    assert.match((e as Error).message, "add flatten (or globalavgpool) and a dense layer");
  }
  tf.dispose([x, y]);
  model.dispose();
});

api("examples/api.ts runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "nnc-example-"));
  // --import tsx resolves tsx from the working directory: run where the package is.
  const out = execFileSync(process.execPath, ["--import", "tsx", repo("examples/api.ts"), dir], {
    encoding: "utf8",
    cwd: repo(""),
  });
  assert.match(out, /evaluate: accuracy 0\.\d+/);
  assert.match(out, /reloaded predictions differ by at most 0\.00e\+0/);
});

api.run();
