// nnc's programmatic API end to end: compile a spec, build it into a TensorFlow.js model, train it on the
// embedded MNIST digits, evaluate, read weights, save, load, predict.
// Run: npx tsx examples/api.ts [output-dir]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { compile, load, loadDataset, renderDiagnostics, rowsAsFloat32 } from "../src/index.ts";

const source = `
input 28x28
flatten
dense 64
batchnorm
relu
dense 10 softmax

train {
  data mnist limit=2000
  optimizer adam lr=0.003
  batch 64
  epochs 3
}
`;

const compiled = compile(source, { filename: "example.nn" });
if (!compiled.ok) {
  console.error(renderDiagnostics(compiled.diagnostics));
  process.exit(1);
}
const program = compiled.program!;
console.log(`compiled: ${program.models[0]!.layers.length} layers`);

const model = await compiled.build({ seed: 1 }); // backend "auto": tfjs-node, else wasm, else cpu
console.log(`backend: ${model.backend}`);

const data = await loadDataset(program.train.data);
const history = await model.fit(data, {
  onEpochEnd: (e) => console.log(`epoch ${e.epoch}: val_acc ${e.valAccuracy.toFixed(4)}`),
});

const { accuracy, loss, samples } = model.evaluate(data.validation);
console.log(`evaluate: accuracy ${accuracy.toFixed(4)}, loss ${loss.toFixed(4)} on ${samples} samples`);

const weights = model.getWeights(); // Keras names: "dense/kernel", "batch_normalization/moving_mean", ...
console.log(`weights: ${Object.keys(weights).join(", ")}`);

const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "nnc-example-"));
await model.save(dir, { history });
const restored = await load(dir);

// Inference mode by default: batch norm uses population statistics, so one sample predicts the same
// alone as in a batch.
// rowsAsFloat32 scales the stored values (image bytes for IDX data) to what the model trains on.
const x = tf.tensor(rowsAsFloat32(data.validation, 0, 5, 784), [5, 28, 28]);
const before = model.predict(x);
const after = restored.predict(x);
const maxDifference = tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]!;
console.log(`predicted classes: ${Array.from(tf.argMax(after, 1).dataSync()).join(" ")}`);
console.log(`labels:            ${Array.from(data.validation.y.subarray(0, 5)).join(" ")}`);
console.log(`saved to ${dir}; reloaded predictions differ by at most ${maxDifference.toExponential(2)}`);
tf.dispose([x, before, after]);
model.dispose();
restored.dispose();
