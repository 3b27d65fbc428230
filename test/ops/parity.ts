// Test helper for op modules: an op against TensorFlow.js Layers' own layer. A one-model spec is compiled and
// built by nnc (src/lower), every weight is set to seeded random values (so a bias or a statistic in the wrong
// place shows), the model is saved in the Layers format and loaded back by tf.loadLayersModel, which builds
// each layer with tfjs-layers' own code from the config nnc wrote. Compared per layer: parameter counts
// (countParams) and output shapes against nnc's checker; and the whole model's predictions in inference mode.
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import * as assert from "uvu/assert";
import type { Program } from "../../src/ir/schema.ts";
import { buildModel } from "../../src/lower/model.ts";
import type { CompiledModel } from "../../src/runtime/types.ts";
import { saveModel } from "../../src/save/index.ts";
import { Random } from "../../src/util/random.ts";
import { tempDir } from "../helpers.ts";
import { program as checkedProgram, useBackend } from "../lower/helpers.ts";
import { loadKerasModel } from "../save/keras-loader.ts";

export interface LayerParity {
  name: string;
  op: string;
  /** nnc's checker: trainable + non-trainable parameters, and the output shape (null: the batch). */
  nncParams: number;
  nncShape: (number | null)[];
  /** tfjs-layers' layer of the same name, built from nnc's export. */
  tfjsParams: number;
  tfjsShape: (number | null)[];
}

export interface Parity {
  layers: LayerParity[];
  /** The largest |nnc - tfjs-layers| over the predictions of a seeded batch, inference mode. */
  maxDiff: number;
  /** The largest |prediction| (so a tolerance can be read against it). */
  maxAbs: number;
}

/** Every weight of `model` set to seeded values: uniform(-0.5, 0.5); variances and gammas in [0.5, 2]. */
export function randomizeWeights(model: CompiledModel, seed = 3): void {
  const rng = new Random(seed);
  const values: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(model.getWeights())) {
    const data = new Float32Array(t.size);
    const positive = name.endsWith("variance") || name.endsWith("gamma");
    for (let i = 0; i < data.length; i++) data[i] = positive ? rng.uniform(0.5, 2) : rng.uniform(-0.5, 0.5);
    values[name] = data;
  }
  model.setWeights(values);
}

/** A seeded batch of the model's per-sample input shape. */
export function seededBatch(program: Program, count: number, seed = 11): tf.Tensor {
  const input = program.models[0]!.layers[0]!;
  const shape = (input.outputShape ?? []).slice(1) as number[];
  const size = shape.reduce((a, b) => a * b, 1);
  const rng = new Random(seed);
  return tf.tensor(
    Array.from({ length: count * size }, () => rng.uniform(-1.5, 1.5)),
    [count, ...shape],
  );
}

/** nnc's model of `spec` against tfjs-layers' loading of its Layers export (wasm backend). */
export async function kerasParity(
  spec: string,
  options: { seed?: number; batch?: number } = {},
): Promise<Parity> {
  await useBackend("wasm");
  const program = checkedProgram(spec);
  const model = buildModel(program, { backend: "wasm", seed: options.seed ?? 1 });
  randomizeWeights(model, options.seed ?? 3);
  const dir = tempDir("op-parity");
  saveModel(model, dir, {});
  const keras: tfl.LayersModel = await loadKerasModel(dir);
  try {
    const layers = program.models[0]!.layers.map((node): LayerParity => {
      const layer = keras.getLayer(node.name);
      const shape = layer.outputShape as (number | null)[];
      return {
        name: node.name,
        op: node.op,
        nncParams: (node.params?.trainable ?? 0) + (node.params?.nonTrainable ?? 0),
        nncShape: node.outputShape ?? [],
        tfjsParams: layer.countParams(),
        tfjsShape: Array.isArray(shape[0]) ? (shape[0] as (number | null)[]) : shape,
      };
    });
    const x = seededBatch(program, options.batch ?? 4);
    const ours = model.predict(x);
    const theirs = keras.predict(x) as tf.Tensor;
    const a = ours.dataSync();
    const b = theirs.dataSync();
    if (a.length !== b.length)
      throw new Error(`prediction sizes differ: nnc ${a.length}, tfjs-layers ${b.length}`);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(a[i]!));
    }
    tf.dispose([x, ours, theirs]);
    return { layers, maxDiff, maxAbs };
  } finally {
    keras.dispose();
    model.dispose();
  }
}

/** kerasParity of `spec` as one check: every layer's parameter count and output shape equal, predictions < 1e-5. */
export async function assertKerasParity(spec: string): Promise<void> {
  const parity = await kerasParity(spec);
  for (const l of parity.layers) {
    assert.is(l.tfjsParams, l.nncParams, `${l.name} (${l.op}): parameters`);
    assert.equal(l.tfjsShape, l.nncShape, `${l.name} (${l.op}): output shape`);
  }
  assert.ok(parity.maxAbs > 1e-3, `predictions are not all ~0 (${parity.maxAbs})`);
  assert.ok(parity.maxDiff < 1e-5, `predictions differ by ${parity.maxDiff}`);
}
