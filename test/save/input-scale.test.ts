// The input scale travels with a saved model: a model trained on image bytes (divided by 255) is saved with a
// Keras Rescaling(1/255) layer after its input, so tf.loadLayersModel of its model.json (and of inference/)
// predicts from raw bytes what nnc predicts from the scaled data; nnc's own load still works and reports it.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { compile } from "../../src/compile.ts";
import { loadDataset, rowsAsFloat32 } from "../../src/data/index.ts";
import { buildModel } from "../../src/lower/index.ts";
import { kerasTopology } from "../../src/save/keras.ts";
import {
  INFERENCE_DIR,
  inputScaleOf,
  leadingRescaling,
  loadModel,
  saveModel,
  withInputScale,
} from "../../src/save/index.ts";
import type { JsonObject } from "../../src/ops/op.ts";
import { writeIdxFolder } from "../data/helpers.ts";
import { failsWith, tempDir } from "../helpers.ts";
import { loadKerasModel } from "./keras-loader.ts";

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const topologyOf = (spec: string): JsonObject => {
  const r = compile(spec, { filename: "t.nn" });
  if (!r.program) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return kerasTopology(r.program.models[0]!, "test");
};

const MLP = "input 8x8\nflatten\ndense 16 bias=false\nbatchnorm\nrelu\ndense 10 softmax";
const RESIDUAL =
  "input 8x8x1\nconv2d 4 3x3 padding=same bias=false\nbatchnorm\nrelu\n" +
  "residual { conv2d 4 3x3 padding=same bias=false; batchnorm }\nrelu\nglobalavgpool\ndense 10 softmax";

const Topology = suite("input scale in modelTopology");

Topology("Sequential: Rescaling(1/k) right after the InputLayer; inputScaleOf reads k back", () => {
  const plain = topologyOf(MLP);
  assert.is(withInputScale(plain, 1), plain, "k = 1 writes no layer");
  assert.is(inputScaleOf(plain), 1);
  const scaled = withInputScale(plain, 255) as { config: { layers: JsonObject[] } };
  const [first, second] = scaled.config.layers;
  assert.is(first!.class_name, "InputLayer");
  assert.equal(second, {
    class_name: "Rescaling",
    config: { name: "rescaling", trainable: false, dtype: "float32", scale: 1 / 255, offset: 0 },
  });
  assert.is(inputScaleOf(scaled), 255);
  assert.is(inputScaleOf({ model_config: scaled }), 255, "tfjs' model_config wrapper");
  assert.is(inputScaleOf(withInputScale(plain, 3.7)), 3.7, "k comes back as written, not 3.7000000000000006");
});

Topology("Functional: the input's consumers read the Rescaling node", () => {
  const graph = topologyOf(RESIDUAL);
  const scaled = withInputScale(graph, 255) as {
    config: { layers: Array<JsonObject & { name: string; inbound_nodes: unknown[][][] }> };
  };
  const names = scaled.config.layers.map((l) => l.name);
  assert.is(names[1], "rescaling");
  const readers = scaled.config.layers.filter((l) =>
    l.inbound_nodes.flat().some((r) => r[0] === "input_layer"),
  );
  assert.equal(
    readers.map((l) => l.name),
    ["rescaling"],
  );
  assert.is(inputScaleOf(scaled), 255);
  assert.is(inputScaleOf(graph), 1);
});

Topology("a layer already named rescaling: the new one takes the next Keras name", () => {
  const named = topologyOf("input 4\ndense 3 name=rescaling\ndense 2 softmax");
  const scaled = withInputScale(named, 2) as { config: { layers: Array<{ config: { name: string } }> } };
  assert.is(scaled.config.layers[1]!.config.name, "rescaling_1");
  assert.is(inputScaleOf(scaled), 2);
});

Topology("Keras 3 JSON: a Rescaling read by the only __keras_tensor__ of the input", () => {
  const tensor = (name: string) => ({
    class_name: "__keras_tensor__",
    config: { keras_history: [name, 0, 0] },
  });
  const keras3 = {
    class_name: "Functional",
    config: {
      name: "m",
      layers: [
        {
          class_name: "InputLayer",
          name: "in",
          config: { name: "in", batch_shape: [null, 4] },
          inbound_nodes: [],
        },
        {
          class_name: "Rescaling",
          name: "scale",
          config: { name: "scale", scale: 0.5, offset: 0 },
          inbound_nodes: [{ args: [tensor("in")], kwargs: {} }],
        },
        {
          class_name: "Dense",
          name: "d",
          config: { name: "d", units: 2 },
          inbound_nodes: [{ args: [tensor("scale")], kwargs: {} }],
        },
      ],
      input_layers: [["in", 0, 0]],
      output_layers: [["d", 0, 0]],
    },
  };
  assert.equal(leadingRescaling(keras3), { name: "scale", scale: 0.5, offset: 0 });
  assert.is(inputScaleOf(keras3), 2);
});

Topology(
  "a leading Rescaling with an offset or a bad scale is E770; one deeper in is no input scale",
  async () => {
    const seq = (config: JsonObject, at = 1) => {
      const layers: JsonObject[] = [
        { class_name: "InputLayer", config: { name: "input", batch_input_shape: [null, 4] } },
        { class_name: "Dense", config: { name: "dense", units: 3 } },
      ];
      layers.splice(at, 0, { class_name: "Rescaling", config: { name: "rescaling", ...config } });
      return { class_name: "Sequential", config: { name: "m", layers } };
    };
    const offset = await failsWith("E770", () =>
      inputScaleOf(seq({ scale: 1 / 127.5, offset: -1 }), "m/model.json"),
    );
    assert.match(
      offset.message,
      /^m\/model\.json: the Rescaling layer 'rescaling' after the input has offset=-1;/,
    );
    for (const scale of [0, -2, "0.5", null]) {
      const d = await failsWith("E770", () => inputScaleOf(seq({ scale, offset: 0 })));
      assert.match(d.message, /has scale=.*not a number above 0/);
    }
    assert.is(inputScaleOf(seq({ scale: 0.5, offset: 0 }, 2)), 1, "after a Dense: not an input scale");
  },
);

const Saved = suite("a model trained on bytes takes raw bytes in tf.loadLayersModel");
const made: string[] = [];
const scratch = () => {
  const dir = tempDir("input-scale");
  made.push(dir);
  return dir;
};
// Only this file's folders: removeTempDirs would also take folders other test files made at import.
Saved.after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

for (const [name, layers] of [
  ["MLP (Sequential)", MLP],
  ["residual network (Functional)", RESIDUAL],
] as const) {
  Saved(
    `${name}: trainable and inference/ model.json from raw bytes = nnc from scaled data (< 1e-5)`,
    async () => {
      const tmp = scratch();
      const data = writeIdxFolder(join(tmp, "data"), { train: 120, test: 30, shape: [8, 8] });
      const spec = join(tmp, "m.nn");
      writeFileSync(spec, `${layers}\ntrain {\n  data idx:${data}\n  batch 32\n  epochs 1\n}\n`);
      const out = join(tmp, "run");
      const r = await nnc("train", spec, "--out", out, "--backend", "cpu");
      assert.is(r.code, 0, r.stderr);

      const nncModel = await loadModel(out, { backend: "cpu" });
      assert.is(nncModel.inputScale, 255);
      const shape = (nncModel.model.layers[0] as { shape: number[] }).shape;
      const { validation } = await loadDataset({ source: `idx:${data}` });
      assert.ok(validation.x instanceof Uint8Array && validation.scale === 255, "the fixture is bytes / 255");
      const size = 64;
      const count = validation.count;
      const raw = tf.tensor(Float32Array.from(validation.x), [count, ...shape]);
      const scaled = tf.tensor(rowsAsFloat32(validation, 0, count, size), [count, ...shape]);
      const ours = nncModel.predict(scaled);

      for (const dir of [out, join(out, INFERENCE_DIR)]) {
        const modelJson = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
        assert.is(inputScaleOf(modelJson.modelTopology), 255, dir);
        const keras = await loadKerasModel(dir);
        assert.is(keras.layers[1]!.getClassName(), "Rescaling");
        const theirs = keras.predict(raw) as tf.Tensor;
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]!);
        assert.ok(diff < 1e-5, `${dir}: max |difference| ${diff}`);
        // Without the scale the bytes would be read as values 255 times too large: the check can fail.
        const unscaled = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, nncModel.predict(raw)))).dataSync()[0]!);
        assert.ok(unscaled > 1e-3, `raw bytes into nnc's own model differ by only ${unscaled}`);
        keras.dispose();
      }

      // A loaded model saved again keeps its scale.
      const again = join(tmp, "again");
      saveModel(nncModel, again);
      assert.is((await loadModel(again, { backend: "cpu" })).inputScale, 255);
      tf.dispose([raw, scaled, ours]);
      nncModel.dispose();
    },
  );
}

Saved("a model trained on the embedded digits (values already in [0, 1]) has no Rescaling", async () => {
  const tmp = scratch();
  const spec = join(tmp, "m.nn");
  writeFileSync(
    spec,
    "input 28x28\nflatten\ndense 8 relu\ndense 10 softmax\ntrain {\n  data mnist limit=200\n  epochs 1\n}\n",
  );
  const out = join(tmp, "run");
  const r = await nnc("train", spec, "--out", out, "--backend", "cpu");
  assert.is(r.code, 0, r.stderr);
  const modelJson = readFileSync(join(out, "model.json"), "utf8");
  assert.not.match(modelJson, /Rescaling/);
  assert.is((await loadModel(out, { backend: "cpu" })).inputScale, 1);
});

Saved(
  "a saved folder whose input Rescaling was changed to one with an offset: loadModel refuses it (E770)",
  async () => {
    const r = compile(MLP, { filename: "m.nn" });
    const dir = scratch();
    const model = buildModel(r.program!, { backend: "cpu" });
    saveModel(model, dir, { inputScale: 255 });
    model.dispose();
    const file = join(dir, "model.json");
    const modelJson = JSON.parse(readFileSync(file, "utf8"));
    modelJson.modelTopology.config.layers[1].config.offset = -1;
    writeFileSync(file, JSON.stringify(modelJson));
    const d = await failsWith("E770", () => loadModel(dir, { backend: "cpu" }));
    assert.match(d.message, `${file}: the Rescaling layer 'rescaling' after the input has offset=-1`);
  },
);

Topology.run();
Saved.run();
