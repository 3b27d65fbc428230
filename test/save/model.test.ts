import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { selectBackend } from "../../src/runtime/backend.ts";
import type { Program } from "../../src/ir/schema.ts";
import type { BackendName } from "../../src/runtime/types.ts";
import { setBeforeRename } from "../../src/save/atomic.ts";
import { INFERENCE_DIR, loadModel, saveModel, type BuildModel } from "../../src/save/index.ts";
import { failsWith, removeTempDirs, tempDir } from "../helpers.ts";
import { CONV_SPEC, MLP_SPEC, maxAbsDiff, sampleInputs } from "./helpers.ts";
import { loadKerasModel } from "./keras-loader.ts";
import { checkedProgram, referenceModel } from "./reference-model.ts";

let backend: BackendName = "cpu";
// Another seed than the saved model's: loadModel must overwrite every weight for predictions to match.
const buildOther: BuildModel = (program, options) =>
  referenceModel(program, { seed: 999, backend: options.backend });

function savedReference(spec: string, seed = 7) {
  const program = checkedProgram(spec);
  const model = referenceModel(program, { seed, backend });
  const dir = tempDir();
  saveModel(model, dir, {});
  return { program, model, dir };
}

const Layers = suite("save: TensorFlow.js Layers format");
Layers.before(async () => {
  backend = (await selectBackend("auto")).name;
});
Layers.after(removeTempDirs);

Layers("writes model.json, weights.bin and ir.json, with Keras weight names and no temporary files", () => {
  const { dir } = savedReference(MLP_SPEC);
  // inference/: the batchnorm-folded export (the MLP has a batchnorm right after a dense).
  assert.equal(readdirSync(dir).sort(), ["inference", "ir.json", "model.json", "weights.bin"]);
  // inference/ is a model folder of its own (nnc predict DIR/inference): its ir.json is the folded program.
  assert.equal(readdirSync(join(dir, "inference")).sort(), ["ir.json", "model.json", "weights.bin"]);
  const modelJson = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  assert.is(modelJson.format, "layers-model");
  assert.is(modelJson.modelTopology.class_name, "Sequential");
  assert.equal(
    modelJson.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name),
    ["InputLayer", "Flatten", "Dense", "BatchNormalization", "Activation", "Dense"],
  );
  const weights = modelJson.weightsManifest[0].weights as Array<{ name: string; shape: number[] }>;
  assert.equal(
    weights.map((w) => w.name),
    [
      "dense/kernel",
      "batch_normalization/gamma",
      "batch_normalization/beta",
      "batch_normalization/moving_mean",
      "batch_normalization/moving_variance",
      "dense_1/kernel",
      "dense_1/bias",
    ],
  );
  assert.equal(weights[0]!.shape, [36, 12]);
  const values = weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  assert.is(statSync(join(dir, "weights.bin")).size, 4 * values);
  // The dense layer before batch norm has no bias in nnc, and says so to Keras rather than storing zeros.
  assert.is(modelJson.modelTopology.config.layers[2].config.use_bias, false);
  const ir = JSON.parse(readFileSync(join(dir, "ir.json"), "utf8"));
  assert.is(ir.models.length, 1);
  assert.ok(ir.models[0].layers.every((l: { outputShape?: unknown }) => Array.isArray(l.outputShape)));
});

for (const [name, spec] of [
  ["dense + batchnorm MLP", MLP_SPEC],
  ["convnet with batchnorm, pooling, layernorm, gelu", CONV_SPEC],
  [
    "batchnorm without center or scale",
    "input 5\ndense 6\nbatchnorm center=false scale=false\ntanh\ndense 3 sigmoid",
  ],
  [
    "l2 kernel regularizers (Keras L1L2 configs)",
    "input 4x4x1\nconv2d 4 3 l2=0.01\nflatten\ndense 3 softmax l2=1e-4",
  ],
] as const) {
  Layers(`tf.loadLayersModel predicts what nnc predicts: ${name}`, async () => {
    const { program, model, dir } = savedReference(spec);
    const keras = await loadKerasModel(dir);
    const x = sampleInputs(program, 7);
    const ours = model.predict(x);
    const theirs = keras.predict(x) as tf.Tensor;
    const diff = maxAbsDiff(ours, theirs);
    assert.ok(diff < 1e-5, `max |difference| ${diff}`);
    // Not trivially equal: the outputs vary across samples.
    assert.ok(tf.tidy(() => tf.sum(tf.moments(ours, 0).variance).dataSync()[0]!) > 1e-8);
    tf.dispose([x, ours, theirs]);
    keras.dispose();
    model.dispose();
  });
}

Layers(
  "loadModel rebuilds the model from ir.json with the saved weights: identical predictions",
  async () => {
    const { program, model, dir } = savedReference(CONV_SPEC);
    const loaded = await loadModel(dir, { backend, build: buildOther });
    assert.is(loaded.model.name, program.models[0]!.name);
    const x = sampleInputs(program, 5);
    assert.is(maxAbsDiff(model.predict(x), loaded.predict(x)), 0);
    // The other seed alone gives other predictions, so the match above comes from the saved weights.
    const fresh = buildOther(program, { backend });
    assert.ok(maxAbsDiff(model.predict(x), fresh.predict(x)) > 1e-3);
    [model, loaded, fresh].forEach((m) => m.dispose());
  },
);

Layers("saving again replaces the files whole", () => {
  const { program, dir } = savedReference(MLP_SPEC, 1);
  const before = readFileSync(join(dir, "weights.bin"));
  saveModel(referenceModel(program, { seed: 2, backend }), dir, {});
  const after = readFileSync(join(dir, "weights.bin"));
  assert.is(after.byteLength, before.byteLength);
  assert.not.ok(after.equals(before));
  assert.not.ok(readdirSync(dir).some((f) => f.includes(".tmp")));
});

Layers("a save over an older one that crashes part-way leaves a folder load refuses, not a mix", async () => {
  const { program, dir } = savedReference(MLP_SPEC, 1);
  const newer = referenceModel(program, { seed: 2, backend });
  // The process "dies" as each file of the new save is about to be published, in turn.
  for (const file of ["weights.bin", "model.json", "ir.json"]) {
    setBeforeRename((_temp, target) => {
      if (basename(target) === file && !target.includes(INFERENCE_DIR)) throw new Error("simulated crash");
    });
    try {
      assert.throws(() => saveModel(newer, dir, {}), /simulated crash/, file);
    } finally {
      setBeforeRename(undefined);
    }
    const d = await failsWith("E603", () => loadModel(dir, { backend, build: buildOther }));
    assert.match(d.message, "ir.json is missing beside model.json and weights.bin: an unfinished save", file);
  }
  // A save that finishes makes the folder whole again, with the new weights.
  saveModel(newer, dir, {});
  const loaded = await loadModel(dir, { backend, build: buildOther });
  const x = sampleInputs(program, 3);
  assert.is(maxAbsDiff(newer.predict(x), loaded.predict(x)), 0);
  [newer, loaded].forEach((m) => m.dispose());
});

const Errors = suite("save: E603 for a folder that is not a saved model");
Errors.after(removeTempDirs);

const e603 = async (dir: string) => {
  const d = await failsWith("E603", () => loadModel(dir, { build: buildOther }));
  return d.message;
};

Errors("a missing folder", async () => {
  const dir = join(tempDir(), "nope");
  assert.is(await e603(dir), `${dir}: no such folder`);
});

Errors("an empty folder names every missing file", async () => {
  const dir = tempDir();
  const message = await e603(dir);
  assert.match(message, "not a saved nnc model: ir.json, model.json, weights.bin are missing");
});

Errors("one missing file is named alone", async () => {
  const { dir } = savedReference(MLP_SPEC);
  rmSync(join(dir, "weights.bin"));
  assert.match(await e603(dir), "weights.bin is missing");
});

Errors("weights.bin cut short is E013, told by its size before it is read", async () => {
  const { dir } = savedReference(MLP_SPEC);
  const size = statSync(join(dir, "weights.bin")).size;
  truncateSync(join(dir, "weights.bin"), size - 8);
  const d = await failsWith("E013", () => loadModel(dir, { build: buildOther }));
  assert.match(
    d.message,
    `weights.bin holds ${size - 8} bytes where model.json's weightsManifest[0] describes ${size}`,
  );
});

Errors("ir.json that is not JSON, or not an nnc program", async () => {
  const { dir } = savedReference(MLP_SPEC);
  writeFileSync(join(dir, "ir.json"), '{"irVersion": 1, ');
  assert.match(await e603(dir), "ir.json is not a valid checked program: invalid IR JSON");
  writeFileSync(join(dir, "ir.json"), '{"irVersion": 1}');
  assert.match(await e603(dir), "ir.json is not a valid checked program: IR");
});

/** ir.json as saved, changed by `edit`. */
function editIR(dir: string, edit: (ir: Program) => void): void {
  const ir = JSON.parse(readFileSync(join(dir, "ir.json"), "utf8")) as Program;
  edit(ir);
  writeFileSync(join(dir, "ir.json"), JSON.stringify(ir));
}

Errors("ir.json the checker rejects is E603 with the checker's message, not an internal error", async () => {
  const { dir } = savedReference("input 4\ndense 3 softmax");
  // A conv2d (as the builder writes one) on flat samples: valid against the schema, wrong for the checker.
  const conv = checkedProgram("input 4x4x1\nconv2d 2 3\nflatten\ndense 3").models[0]!.layers[1]!;
  editIR(dir, (ir) => ir.models[0]!.layers.splice(1, 0, conv));
  const message = await e603(dir);
  assert.match(message, `${dir}: ir.json is not a valid checked program: `);
  assert.match(message, "conv2d");
});

Errors("ir.json without (or with wrong) shapes and counts loads: the checker recomputes them", async () => {
  const { program, model, dir } = savedReference(MLP_SPEC);
  editIR(dir, (ir) => {
    for (const layer of ir.models[0]!.layers) {
      delete layer.outputShape;
      delete layer.params;
    }
  });
  const loaded = await loadModel(dir, { backend, build: buildOther });
  const x = sampleInputs(program, 3);
  assert.is(maxAbsDiff(model.predict(x), loaded.predict(x)), 0);
  assert.equal(
    loaded.model.layers.map((l) => l.outputShape),
    program.models[0]!.layers.map((l) => l.outputShape),
  );
  [model, loaded].forEach((m) => m.dispose());
});

Errors("weights saved for another model", async () => {
  const a = savedReference("input 4\ndense 3 softmax");
  const b = savedReference("input 4\ndense 5\ndense 3 softmax");
  writeFileSync(join(a.dir, "ir.json"), readFileSync(join(b.dir, "ir.json")));
  const message = await e603(a.dir);
  assert.match(message, "dense/kernel is saved with shape [4, 3] but ir.json's model needs [4, 5]");
  assert.ok(existsSync(join(a.dir, "model.json")));
});

Layers.run();
Errors.run();
