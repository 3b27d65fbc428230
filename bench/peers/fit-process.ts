// Bench peer, whole process: what a tfjs-layers user runs for what one `nnc train` does, timed by bench/startup.ts
// from the outside. Loads a data set (nnc's loader: the peer is not measured on parsing), builds the model of
// the same checked IR (nnc's Keras export, as bench/peers/tfjs-layers.ts's graphs), `model.fit` over the whole
// training set for the epochs asked with the test split as validation data, then saves it (model.json +
// weights.bin). Prints one JSON line: { seconds, phases: { start-up, data, training, saving } } from its own clock.
// Usage: tsx bench/peers/fit-process.ts MODEL BATCH SOURCE EPOCHS OUT_DIR
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { loadDataset, rowsAsFloat32 } from "../../src/data/index.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { kerasTopology } from "../../src/save/keras.ts";
import { MODELS, benchProgram, type BenchModel } from "./models.ts";

const [modelName, batchArg, source, epochsArg, out] = process.argv.slice(2);
if (!MODELS.includes(modelName as BenchModel) || !out) {
  throw new Error("usage: tsx bench/peers/fit-process.ts MODEL BATCH SOURCE EPOCHS OUT_DIR");
}
const batch = Number(batchArg);
const epochs = Number(epochsArg);
const seconds = (since: number) => (performance.now() - since) / 1000;

await selectBackend("wasm");
const startup = performance.now() / 1000;

let began = performance.now();
const data = await loadDataset({ source: source! });
const program = benchProgram(modelName as BenchModel, source!, batch);
const ir = program.models[0]!;
const input = ir.layers[0]!;
const shape = input.op === "input" ? input.shape : [];
const size = shape.reduce((a, b) => a * b, 1);
const tensors = (split: typeof data.train) => ({
  x: tf.tensor(rowsAsFloat32(split, 0, split.count, size), [split.count, ...shape], "float32"),
  y: tf.tensor2d(Float32Array.from(split.y), [split.count, 1], "float32"),
});
const train = tensors(data.train);
const test = tensors(data.validation);
const dataSeconds = seconds(began);

began = performance.now();
const model = (await tfl.models.modelFromJSON({
  modelTopology: kerasTopology(ir, "bench"),
} as never)) as tfl.LayersModel;
model.compile({
  optimizer: tf.train.adam(0.001),
  loss: "sparseCategoricalCrossentropy",
  metrics: ["accuracy"],
});
const history = await model.fit(train.x, train.y, {
  batchSize: batch,
  epochs,
  shuffle: true,
  verbose: 0,
  validationData: [test.x, test.y],
});
const trainingSeconds = seconds(began);

began = performance.now();
mkdirSync(out, { recursive: true });
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    const weights = artifacts.weightData as ArrayBuffer;
    writeFileSync(join(out, "weights.bin"), Buffer.from(weights));
    writeFileSync(
      join(out, "model.json"),
      JSON.stringify({
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
      }),
    );
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }),
);
const savingSeconds = seconds(began);

const last = (key: string) => Number(history.history[key]?.at(-1));
console.log(
  JSON.stringify({
    seconds: performance.now() / 1000,
    phases: { "start-up": startup, data: dataSeconds, training: trainingSeconds, saving: savingSeconds },
    valAccuracy: last("val_acc") || last("val_accuracy"),
  }),
);
