// Bench peer: tfjs-layers `model.fit` on the wasm backend, the generic library loop nnc is measured against.
// The model is built from the same checked IR as nnc's (same layers, Keras defaults, Adam lr 0.001,
// sparse categorical cross-entropy on the softmax output,
// accuracy as the metric). Three epochs over a fixed subset; the best of the
// last two is reported.
// Usage: tsx bench/peers/tfjs-layers.ts MODEL BATCH SAMPLES SOURCE
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Layer, Model } from "../../src/ir/schema.ts";
import { selectBackend } from "../../src/runtime/backend.ts";
import { rowsAsFloat32 } from "../../src/data/index.ts";
import { benchData, parseArgs, report } from "./common.ts";
import { benchProgram } from "./models.ts";
import { kerasTopology } from "../../src/save/keras.ts";
import { isChain } from "../../src/ir/graph.ts";

/** The tfjs-layers twin of an IR layer (its input layer is folded into the first layer's inputShape). */
function layerOf(l: Layer, inputShape: number[] | undefined): tfl.layers.Layer | undefined {
  const first = inputShape ? { inputShape } : {};
  switch (l.op) {
    case "input":
      return undefined;
    case "flatten":
      return tfl.layers.flatten(first);
    case "dense":
      return tfl.layers.dense({
        ...first,
        units: l.units,
        activation: l.activation as "relu",
        useBias: l.useBias,
      });
    case "conv2d":
      return tfl.layers.conv2d({
        ...first,
        filters: l.filters,
        kernelSize: l.kernelSize,
        strides: l.strides,
        padding: l.padding,
        activation: l.activation as "relu",
        useBias: l.useBias,
      });
    case "batchnorm":
      return tfl.layers.batchNormalization({ ...first, momentum: l.momentum, epsilon: l.epsilon });
    case "activation":
      return tfl.layers.activation({ ...first, activation: l.activation as "relu" });
    case "dropout":
      return tfl.layers.dropout({ ...first, rate: l.rate });
    case "maxpool":
      return tfl.layers.maxPooling2d({
        ...first,
        poolSize: l.poolSize,
        strides: l.strides,
        padding: l.padding,
      });
    default:
      throw new Error(`bench: no tfjs-layers twin for ${l.op}`);
  }
}

/**
 * A graph (residual network) as tfjs-layers builds it from nnc's own Keras export: the functional model JSON
 * that `nnc train` saves, so the peer trains the same layers and connections.
 */
async function functionalModel(model: Model): Promise<tfl.LayersModel> {
  return tfl.models.modelFromJSON({ modelTopology: kerasTopology(model, "bench") } as never);
}

export function layersModel(model: Model): tfl.Sequential {
  const input = model.layers[0]!;
  if (input.op !== "input") throw new Error("bench: model without input layer");
  const seq = tfl.sequential();
  let shape: number[] | undefined = [...input.shape];
  for (const l of model.layers) {
    const layer = layerOf(l, shape);
    if (!layer) continue;
    seq.add(layer);
    shape = undefined;
  }
  return seq;
}

const args = parseArgs(process.argv.slice(2));
const backend = await selectBackend("wasm");
const { subset } = await benchData(args);
const program = benchProgram(args.model, args.source, args.batch);
const ir = program.models[0]!;
const model = isChain(ir.layers) ? layersModel(ir) : await functionalModel(ir);
// metrics: accuracy, as the notebook compiles it (nnc's loop counts correct predictions too).
model.compile({
  optimizer: tf.train.adam(0.001),
  loss: "sparseCategoricalCrossentropy",
  metrics: ["accuracy"],
});
const n = subset.train.count;
const inputShape = program.models[0]!.layers[0]!.op === "input" ? program.models[0]!.layers[0]!.shape : [];
const x = tf.tensor(
  rowsAsFloat32(subset.train, 0, n, subset.train.x.length / n),
  [n, ...inputShape],
  "float32",
);
const y = tf.tensor2d(Float32Array.from(subset.train.y), [n, 1], "float32");
let began = 0;
let seconds = Infinity;
await model.fit(x, y, {
  batchSize: args.batch,
  epochs: 3,
  shuffle: true,
  verbose: 0,
  callbacks: {
    onEpochBegin: async (epoch) => {
      began = performance.now();
    },
    onEpochEnd: async (epoch) => {
      if (epoch >= 1) seconds = Math.min(seconds, (performance.now() - began) / 1000);
    },
  },
});
report({ samplesPerSecond: n / seconds, extra: { backend: backend.detail } });
