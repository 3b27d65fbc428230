// nnc import --weights: a model tfjs-layers built, trained-looking (random weights, batchnorm statistics away
// from 0 and 1) and saved as model.json + .bin, imported into a model folder that nnc loads and predicts with
// exactly what tfjs-layers predicts for the original (< 1e-5), the input scale included; and the manifest's
// mismatches as named errors.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { loadModel } from "../../src/save/model.ts";
import { tempDir } from "../helpers.ts";
import { useBackend } from "../lower/helpers.ts";
import { Random } from "../../src/util/random.ts";

const nnc = async (...argv: string[]) => {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
};

/** Every weight of the model drawn again (variances positive), so nothing is at its initial value. */
function randomize(model: tfl.LayersModel, seed: number): void {
  const rng = new Random(seed);
  model.setWeights(
    model.weights.map((weight) => {
      const w = { name: weight.name, shape: weight.shape as number[] };
      const values = Float32Array.from({ length: w.shape.reduce((a, b) => a * b, 1) }, () =>
        w.name.includes("variance") ? rng.uniform(0.5, 2) : rng.uniform(-0.5, 0.5),
      );
      return tf.tensor(values, w.shape);
    }),
  );
}

/** Saves as tfjs-layers' model.save does: model.json (modelTopology, weightsManifest) + one .bin beside it. */
async function saveTfjs(model: tfl.LayersModel, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData as ArrayBuffer;
      writeFileSync(join(dir, "group1-shard1of1.bin"), Buffer.from(data));
      const json = {
        format: "layers-model",
        generatedBy: "TensorFlow.js tfjs-layers v4.22.0",
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, "model.json"), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return join(dir, "model.json");
}

function convnet(rescale: boolean): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      ...(rescale ? [tfl.layers.rescaling({ inputShape: [28, 28, 1], scale: 1 / 255 })] : []),
      tfl.layers.conv2d({
        ...(rescale ? {} : { inputShape: [28, 28, 1] }),
        filters: 4,
        kernelSize: 3,
        padding: "same",
        useBias: false,
      }),
      tfl.layers.batchNormalization({ epsilon: 0.01 }),
      tfl.layers.reLU(),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, activation: "relu" }),
      tfl.layers.flatten(),
      tfl.layers.dropout({ rate: 0.3 }),
      tfl.layers.dense({ units: 16 }),
      tfl.layers.layerNormalization(),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
}

function graph(): tfl.LayersModel {
  const input = tfl.input({ shape: [12] });
  const stem = tfl.layers.dense({ units: 8, activation: "tanh" }).apply(input) as tfl.SymbolicTensor;
  const body = tfl.layers.batchNormalization().apply(tfl.layers.dense({ units: 8 }).apply(stem));
  const sum = tfl.layers.add().apply([body as tfl.SymbolicTensor, stem]) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate().apply([sum, stem]);
  const out = tfl.layers.dense({ units: 3, activation: "softmax" }).apply(joined) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

const weights = suite("import --weights: nnc predicts what tfjs-layers predicts");
weights.before(() => useBackend("cpu"));

for (const [name, build, shape, scale] of [
  ["Sequential convnet (conv, batchnorm, pooling, layernorm)", () => convnet(false), [28, 28, 1], 1],
  ["Sequential convnet on raw pixels (Rescaling 1/255)", () => convnet(true), [28, 28, 1], 255],
  ["Functional (Add, Concatenate, batchnorm)", graph, [12], 1],
] as const) {
  weights(`${name}: nnc's predictions of the import equal tfjs' of the original (< 1e-5)`, async () => {
    const original = build();
    randomize(original, 7);
    const root = tempDir("import-weights");
    const json = await saveTfjs(original, join(root, "tfjs"));
    const dir = join(root, "imported");
    const r = await nnc("import", json, "--weights", "-o", dir, "--backend", "cpu");
    assert.is(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, "spec.nn")) && existsSync(join(dir, "ir.json")));
    const rng = new Random(3);
    const count = 16;
    const size = (shape as readonly number[]).reduce((a, b) => a * b, 1);
    // Raw values as the data holds them: pixel bytes for the rescaled model.
    const raw = Float32Array.from({ length: count * size }, () =>
      scale === 1 ? rng.uniform(-1, 1) : Math.floor(rng.uniform(0, 256)),
    );
    const expected = tf.tidy(
      () => (original.predict(tf.tensor(raw, [count, ...shape])) as tf.Tensor).dataSync() as Float32Array,
    );
    const loaded = await loadModel(dir, { backend: "cpu" });
    assert.is(loaded.inputScale, scale);
    const got = tf.tidy(
      () =>
        loaded
          .predict(
            tf.tensor(
              raw.map((v) => v / scale),
              [count, ...shape],
            ),
          )
          .dataSync() as Float32Array,
    );
    assert.ok(maxDiff(got, expected) < 1e-5, `max difference ${maxDiff(got, expected)}`);
    loaded.dispose();
    // nnc predict --input takes the raw samples as they are and gives tfjs' classes.
    const input = join(root, "samples.json");
    writeFileSync(
      input,
      JSON.stringify(
        Array.from({ length: count }, (_, i) => Array.from(raw.subarray(i * size, (i + 1) * size))),
      ),
    );
    const p = await nnc("predict", dir, "--input", input, "--json", "--backend", "cpu");
    assert.is(p.code, 0, p.stderr);
    const rows = JSON.parse(p.stdout) as { predicted: number }[];
    const classes = expected.length / count;
    rows.forEach((row, i) => {
      const probs = Array.from(expected.subarray(i * classes, (i + 1) * classes));
      assert.is(row.predicted, probs.indexOf(Math.max(...probs)));
    });
    original.dispose();
  });
}

weights("nnc eval of the import runs on the data its train block names", async () => {
  const original = convnet(false);
  randomize(original, 1);
  const root = tempDir("import-eval");
  const dir = join(root, "imported");
  const r = await nnc(
    "import",
    await saveTfjs(original, join(root, "tfjs")),
    "--weights",
    "-o",
    dir,
    "--backend",
    "cpu",
  );
  assert.is(r.code, 0, r.stderr);
  const e = await nnc("eval", dir, "--limit", "50", "--json", "--backend", "cpu");
  assert.is(e.code, 0, e.stderr);
  assert.is((JSON.parse(e.stdout) as { samples: number }).samples, 50);
  original.dispose();
});

const errors = suite("import --weights: named errors");
errors.before(() => useBackend("cpu"));

errors(
  "E746 for a missing weight, another shape, another dtype, no manifest; E013 for a short .bin",
  async () => {
    const original = graph();
    const root = tempDir("import-bad");
    const json = await saveTfjs(original, join(root, "tfjs"));
    const doc = JSON.parse(readFileSync(json, "utf8"));
    const attempt = async (change: (d: typeof doc) => void, name: string) => {
      const d = JSON.parse(JSON.stringify(doc));
      change(d);
      const file = join(root, "tfjs", `${name}.json`);
      writeFileSync(file, JSON.stringify(d));
      const out = join(root, name);
      const r = await nnc("import", file, "--weights", "-o", out, "--backend", "cpu");
      assert.is(r.code, 1, r.stderr);
      assert.not.ok(existsSync(join(out, "ir.json")), "nothing written");
      return r.stderr;
    };
    const specs = doc.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string }[];
    const kernel = specs.find((w) => w.name.endsWith("/kernel"))!.name;
    assert.match(
      await attempt((d) => (d.weightsManifest[0].weights[0].name = "renamed/kernel"), "missing"),
      /error\[E746\]: .*has no .*\/kernel \[12, 8\], which layer '.*' \(Dense\) needs/,
    );
    assert.match(
      await attempt((d) => (d.weightsManifest[0].weights[0].dtype = "int32"), "dtype"),
      `error[E746]: ${join(root, "tfjs", "dtype.json")}: weight "${kernel}" is "int32"; nnc imports float32 weights`,
    );
    assert.match(
      await attempt((d) => (d.weightsManifest[0].weights[0].shape = [8, 12]), "shape"),
      /error\[E746\]: .*has shape \[8, 12\], but layer '.*' \(Dense\) as imported needs \[12, 8\]/,
    );
    assert.match(await attempt((d) => delete d.weightsManifest, "none"), "has no weightsManifest");
    assert.match(
      await attempt((d) => (d.weightsManifest[0].paths = ["../elsewhere.bin"]), "outside"),
      "error[E010]",
    );
    assert.match(
      await attempt(
        (d) => d.weightsManifest[0].weights.push({ name: "extra", shape: [4], dtype: "float32" }),
        "short",
      ),
      "error[E013]",
    );
    // A spec without weights (Keras to_json) is still imported without --weights.
    const plain = await nnc("import", json);
    assert.is(plain.code, 0, plain.stderr);
    original.dispose();
  },
);

weights.run();
errors.run();
