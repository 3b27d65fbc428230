// Bench peer: nnc's own training loop (CompiledModel.fit on the wasm backend) for one model and batch size.
// Three epochs over a fixed subset: the first warms up (kernels, heap), the best of the other two is reported
// (training steps only; this machine's throughput varies between runs).
// Usage: tsx bench/peers/nnc.ts MODEL BATCH SAMPLES SOURCE
import * as tf from "@tensorflow/tfjs-core";
import { buildModel } from "../../src/lower/index.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { benchData, parseArgs, report } from "./common.ts";
import { benchProgram } from "./models.ts";

const args = parseArgs(process.argv.slice(2));
const backend = await selectBackend("wasm");
const { subset } = await benchData(args);
const program = benchProgram(args.model, args.source, args.batch);
const model = buildModel(program, { backend: backend.name });
let tensorsAfterWarmUp = 0;
const history = await model.fit(subset, {
  train: { epochs: 3 },
  onEpochEnd: (record) => {
    if (record.epoch === 1) tensorsAfterWarmUp = tf.memory().numTensors;
  },
});
const timed = history.epochs.slice(1).reduce((a, b) => (b.samplesPerSecond > a.samplesPerSecond ? b : a));
const tensorGrowth = tf.memory().numTensors - tensorsAfterWarmUp;
model.dispose();
report({
  samplesPerSecond: timed.samplesPerSecond,
  extra: { backend: backend.detail, tensorGrowth, loss: timed.loss },
});
