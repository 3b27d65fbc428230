// Saving and resuming with the real lowering (src/lower buildModel) and training loop (src/train).
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Dataset, Split } from "../../src/data/types.ts";
import type { Program } from "../../src/ir/schema.ts";
import { buildModel } from "../../src/lower/index.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import type { BackendName, CompiledModel, EpochRecord, TrainState } from "../../src/runtime/types.ts";
import {
  INFERENCE_DIR,
  checkpointFingerprint,
  loadModel,
  readCheckpoint,
  saveModel,
  writeCheckpoint,
} from "../../src/save/index.ts";
import { Random } from "../../src/util/random.ts";
import { removeTempDirs, tempDir } from "../helpers.ts";
import { CONV_SPEC, MLP_SPEC, inputShape, maxAbsDiff, sampleInputs } from "./helpers.ts";
import { loadKerasModel } from "./keras-loader.ts";
import { checkedProgram } from "./reference-model.ts";

let backend: BackendName = "cpu";

/** A learnable synthetic task: the class is which quarter of the features holds the largest sum. */
function synthetic(program: Program, classes: number, train: number, validation: number): Dataset {
  const shape = inputShape(program);
  const size = shape.reduce((a, b) => a * b, 1);
  const rng = new Random(5);
  const split = (count: number): Split => {
    const x = new Float32Array(count * size);
    const y = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const label = rng.int(classes);
      y[i] = label;
      for (let j = 0; j < size; j++) {
        x[i * size + j] = rng.normal() * 0.5 + (Math.floor((j * classes) / size) === label ? 1 : 0);
      }
    }
    return { x, scale: 1, y, count };
  };
  return {
    source: "synthetic",
    description: "synthetic test data",
    sampleShape: shape,
    numClasses: classes,
    train: split(train),
    validation: split(validation),
    validationName: "test",
  };
}

/** Trained for an epoch, so batch norm's moving statistics come from training, not initialization. */
async function trained(spec: string, classes: number) {
  const program = checkedProgram(spec);
  const model = buildModel(program, { backend });
  await model.fit(synthetic(program, classes, 64, 16), { train: { epochs: 1, batch: 16 } });
  return { program, model };
}

const Saved = suite("save with the real lowering");
Saved.before(async () => {
  backend = (await selectBackend("auto")).name;
});
Saved.after(removeTempDirs);

for (const [name, spec, classes] of [
  ["dense + batchnorm MLP", MLP_SPEC, 4],
  ["convnet with batchnorm, pooling, layernorm, gelu", CONV_SPEC, 5],
] as const) {
  Saved(`trained ${name}: tf.loadLayersModel and loadModel predict what it predicts`, async () => {
    const { program, model } = await trained(spec, classes);
    const dir = tempDir();
    saveModel(model, dir, {});
    const x = sampleInputs(program, 6);
    const ours = model.predict(x);
    const keras = await loadKerasModel(dir);
    const kerasDiff = maxAbsDiff(ours, keras.predict(x) as tf.Tensor);
    assert.ok(kerasDiff < 1e-5, `tf.loadLayersModel: max |difference| ${kerasDiff}`);
    const loaded = await loadModel(dir, { backend });
    assert.is(maxAbsDiff(ours, loaded.predict(x)), 0);
    // The inference export beside it: batchnorm folded into the layer before it, same predictions.
    const inference = await loadKerasModel(join(dir, INFERENCE_DIR));
    assert.ok(
      inference.layers.every((l) => l.getClassName() !== "BatchNormalization"),
      inference.layers.map((l) => l.getClassName()).join(", "),
    );
    assert.is(inference.layers.length, keras.layers.length - 1);
    const foldedDiff = maxAbsDiff(ours, inference.predict(x) as tf.Tensor);
    assert.ok(foldedDiff < 1e-5, `inference export: max |difference| ${foldedDiff}`);
    inference.dispose();
    keras.dispose();
    [model, loaded].forEach((m) => m.dispose());
  });
}

const Resume = suite("resume equals an uninterrupted run");
Resume.before(async () => {
  backend = (await selectBackend("auto")).name;
});
Resume.after(removeTempDirs);

// Timings differ between runs; everything else must be identical.
const withoutTimes = (epochs: EpochRecord[]) =>
  epochs.map(({ seconds: _s, samplesPerSecond: _r, ...rest }) => rest);

const weightsOf = (model: CompiledModel) =>
  Object.fromEntries(Object.entries(model.getWeights()).map(([k, t]) => [k, Array.from(t.dataSync())]));

Resume("2 epochs straight = 1 epoch, checkpoint, fresh model, resume for 1 more", async () => {
  // Adam (slots and step), batch norm (moving statistics), dropout (per-step masks), shuffling.
  const spec = MLP_SPEC.replace("relu\n", "relu\ndropout 0.3\n");
  const program = checkedProgram(spec);
  const data = synthetic(program, 4, 80, 16);
  const train = { epochs: 2, batch: 16 };

  const straight = buildModel(program, { backend });
  const straightHistory = await straight.fit(data, { train });

  const dir = tempDir();
  const fingerprint = checkpointFingerprint(program, program.models[0]!.name);
  const first = buildModel(program, { backend });
  await first.fit(data, {
    train: { ...train, epochs: 1 },
    onEpochEnd: (_record, state) => writeCheckpoint(dir, state(), { fingerprint }),
  });
  first.dispose();

  const resumeFrom: TrainState = readCheckpoint(dir, fingerprint);
  assert.is(resumeFrom.epochsDone, 1);
  assert.ok(resumeFrom.optimizer.step > 0 && Object.keys(resumeFrom.optimizer.slots).length > 0);
  const resumed = buildModel(program, { backend });
  const resumedHistory = await resumed.fit(data, { train, resumeFrom });

  assert.equal(withoutTimes(resumedHistory.epochs), withoutTimes(straightHistory.epochs));
  assert.equal(weightsOf(resumed), weightsOf(straight));
  // Training moved the weights, so the equality is not that of two untouched models.
  const untouched = buildModel(program, { backend });
  assert.not.equal(weightsOf(untouched), weightsOf(straight));
  [straight, resumed, untouched].forEach((m) => m.dispose());
});

Saved.run();
Resume.run();
