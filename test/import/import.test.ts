// nnc import: Keras / TensorFlow.js Layers JSON -> .nn spec. Round trips through nnc's own Keras export, models
// built and serialized by tfjs-layers itself (parameter counts against its countParams()), hand-written Keras 2
// and Keras 3 fixtures (test/fixtures/keras/, each saying where its form comes from), and the named errors.
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { formatSource } from "../../src/format/index.ts";
import { withInputScale } from "../../src/save/input-scale.ts";
import { kerasTopology } from "../../src/save/keras.ts";
import { useBackend } from "../lower/helpers.ts";
import { imported, refused, totalParams, upToNames } from "./helpers.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/keras/${name}`, import.meta.url), "utf8");
const spec = (name: string) => readFileSync(new URL(`../../specs/${name}`, import.meta.url), "utf8");

/** model.json as nnc's save writes it (src/save/model.ts), for a spec's first model. */
function savedModelJson(source: string) {
  const r = compile(source);
  assert.ok(r.ok, r.diagnostics.map((d) => d.message).join("; "));
  const model = r.program!.models[0]!;
  return {
    model,
    json: {
      format: "layers-model",
      generatedBy: "nnc 0.1.0",
      convertedBy: null,
      modelTopology: kerasTopology(model, "nnc 0.1.0"),
    },
  };
}

const roundTrip = suite("import: nnc's own Keras export round-trips");

for (const name of ["mnist-bn.nn", "convnet-bn.nn", "resnet.nn", "mnist-mlp.nn"]) {
  roundTrip(
    `${name}: save -> import gives the same graph up to names, the same parameter counts`,
    async () => {
      const { model, json } = savedModelJson(spec(name));
      const r = await imported(json);
      const back = r.program!.models[0]!;
      assert.equal(upToNames(back), upToNames(model));
      assert.is(totalParams(back), totalParams(model));
      // The spec is canonical (nnc fmt leaves it as it is) and checks.
      assert.is(await formatSource(r.text!), r.text);
      assert.ok(compile(r.text!).ok);
      // nnc's own names survive where they are Keras' (all of them here).
      assert.equal(
        r.layers!.map((l) => l.nnc),
        model.layers.map((l) => l.name),
      );
    },
  );
}

roundTrip("the residual network reads back as residual blocks, its projection as a shortcut", async () => {
  const { json } = savedModelJson(spec("resnet.nn"));
  const r = await imported(json);
  assert.is(r.text!.match(/^\s*residual \{$/gm)?.length, 3);
  assert.match(r.text!, /  shortcut \{\n    conv2d 32 1x1 stride=2 bias=false\n    batchnorm\n  \}/);
});

roundTrip(
  "a model saved with its input scale (Rescaling 1/255) imports with scale=255 and the same graph",
  async () => {
    for (const name of ["convnet-bn.nn", "resnet.nn"]) {
      const { model, json } = savedModelJson(spec(name));
      const scaled = { ...json, modelTopology: withInputScale(json.modelTopology, 255) };
      const r = await imported(scaled);
      assert.is(r.inputScale, 255, name);
      assert.match(r.text!, "data fashion-mnist scale=255\n");
      assert.equal(upToNames(r.program!.models[0]!), upToNames(model));
    }
  },
);

roundTrip("names a merge refers to are kept (name=), others left to nnc's defaults", async () => {
  const { model, json } = savedModelJson(
    "input 8\ndense 8 name=skip\ndense 8\nconcat skip axis=1\ndense 2 softmax",
  );
  const r = await imported(json);
  assert.match(r.text!, "dense 8 name=skip\ndense 8\nconcat skip axis=1\n");
  assert.equal(upToNames(r.program!.models[0]!), upToNames(model));
});

const tfjs = suite("import: models built and serialized by tfjs-layers");
tfjs.before(() => useBackend("cpu"));

/** model.json's modelTopology as tfjs-layers writes it (LayersModel.toJSON, what model.save puts there). */
const layersJson = (model: tfl.LayersModel) => ({
  format: "layers-model",
  generatedBy: "TensorFlow.js tfjs-layers v4.22.0",
  convertedBy: null,
  modelTopology: model.toJSON(null, false),
});

const sequentialCases: Record<string, () => tfl.Sequential> = {
  "Dense (activation, use_bias, initializer, L2)": () =>
    tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [12], units: 7, activation: "tanh", kernelInitializer: "heNormal" }),
        tfl.layers.dense({ units: 5, useBias: false, kernelRegularizer: tfl.regularizers.l2({ l2: 0.01 }) }),
        tfl.layers.dense({ units: 3, activation: "softmax" }),
      ],
    }),
  "Conv2D (strides, padding, activation), MaxPooling2D, AveragePooling2D, Flatten": () =>
    tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [20, 20, 3],
          filters: 6,
          kernelSize: 3,
          strides: 2,
          padding: "same",
          activation: "relu",
        }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 4, kernelSize: [3, 2], useBias: false }),
        tfl.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: "same" }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 10 }),
      ],
    }),
  "BatchNormalization (momentum, epsilon, center, scale), GlobalAveragePooling2D": () =>
    tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 2], filters: 5, kernelSize: 3 }),
        tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, center: false }),
        tfl.layers.batchNormalization({ scale: false }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: 4, activation: "sigmoid" }),
      ],
    }),
  "Dropout, LayerNormalization, Activation, ReLU, Softmax and ELU layers": () =>
    tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [6], units: 9 }),
        tfl.layers.layerNormalization({ epsilon: 1e-6, center: false }),
        tfl.layers.reLU(),
        tfl.layers.dropout({ rate: 0.3 }),
        tfl.layers.dense({ units: 9 }),
        tfl.layers.activation({ activation: "elu" }),
        tfl.layers.elu(),
        tfl.layers.dense({ units: 3 }),
        tfl.layers.softmax(),
      ],
    }),
};

for (const [name, build] of Object.entries(sequentialCases)) {
  tfjs(`Sequential: ${name} -> the same parameter count as countParams()`, async () => {
    const model = build();
    const r = await imported(layersJson(model));
    assert.is(totalParams(r.program!.models[0]!), model.countParams());
    assert.is(
      r.program!.models[0]!.layers.length,
      model.layers.length + 1,
      "one node per layer, plus the input",
    );
    model.dispose();
  });
}

tfjs("Functional: Add and Concatenate (axis) with tfjs' own names -> the same parameter count", async () => {
  const input = tfl.input({ shape: [10, 10, 3] });
  const stem = tfl.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: "same" })
    .apply(input) as tfl.SymbolicTensor;
  const a = tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }).apply(stem);
  const b = tfl.layers.batchNormalization().apply(a);
  const sum = tfl.layers.add().apply([b as tfl.SymbolicTensor, stem]) as tfl.SymbolicTensor;
  const c = tfl.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(sum);
  const joined = tfl.layers.concatenate({ axis: 3 }).apply([c as tfl.SymbolicTensor, sum]);
  const pooled = tfl.layers.globalAveragePooling2d({}).apply(joined);
  const out = tfl.layers.dense({ units: 5, activation: "softmax" }).apply(pooled) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  const r = await imported(layersJson(model));
  assert.is(totalParams(r.program!.models[0]!), model.countParams());
  // The sum is named by the concat after it, so it is `add NAME name=...` rather than a (nameless) residual.
  assert.match(r.text!, /\nadd conv2d_Conv2D\d+ name=add_Add\d+\n/);
  assert.match(r.text!, /concat \S+ axis=3/);
  model.dispose();
});

tfjs("a leading Rescaling(1/255) is the input's scale: scale=255 on the data line, no layer", async () => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.rescaling({ inputShape: [28, 28, 1], scale: 1 / 255 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  const r = await imported(layersJson(model));
  assert.is(r.inputScale, 255);
  assert.match(r.text!, "data fashion-mnist scale=255");
  assert.not.match(r.text!, /rescal/i);
  assert.is(r.program!.train.data.scale, 255);
  model.dispose();
});

const fixtures = suite("import: Keras 2 and Keras 3 JSON (test/fixtures/keras/)");

fixtures(
  "Keras 2 Sequential to_json (InputLayer, L2, constraint noted, BN axis [1], Softmax layer)",
  async () => {
    const r = await imported(fixture("keras2-sequential-mlp.json"), "keras2-sequential-mlp.json");
    assert.match(
      r.text!,
      "input 28x28\nflatten\ndense 128 relu init=he_normal l2=0.0001\nbatchnorm momentum=0.9 epsilon=0.00001 scale=false\n" +
        "dropout 0.2\n# dense_1: kernel_constraint MaxNorm is left out: nnc has none (it changes training only)\ndense 10\nsoftmax\n",
    );
    // Keras' summary: 100,480 + (128 beta + 256 moving) + 1,290.
    assert.is(totalParams(r.program!.models[0]!), 100480 + 384 + 1290);
    const warning = r.diagnostics.find((d) => d.code === "W740");
    assert.ok(warning, "the approximation is a warning too");
    assert.is(warning!.line, 79, "at dense_1's name in the JSON");
  },
);

fixtures(
  "Keras 2 Functional, converted by tensorflowjs_converter (model_config): a small ResNet",
  async () => {
    const r = await imported(fixture("keras2-converted-resnet.json"), "keras2-converted-resnet.json");
    // Keras counts: conv 432 + bn 64, block1 2x(2,304 + 64), block2 4,608 + 128 + 9,216 + 128, shortcut 512 + 128,
    // dense 330.
    assert.is(
      totalParams(r.program!.models[0]!),
      432 + 64 + 2 * (2304 + 64) + 4608 + 128 + 9216 + 128 + 512 + 128 + 330,
    );
    assert.match(
      r.text!,
      /shortcut \{\n    conv2d 32 1x1 stride=2 padding=same bias=false\n    batchnorm\n  \}/,
    );
    assert.match(r.text!, "data csv:data.csv");
    assert.equal(
      r.layers!.filter((l) => l.className === "Add").map((l) => l.keras),
      ["block1_add", "block2_add"],
    );
  },
);

fixtures(
  "Keras 3 .keras config.json Sequential (batch_shape, DTypePolicy, module fields, Rescaling)",
  async () => {
    const r = await imported(fixture("keras3-sequential-convnet.json"), "keras3-sequential-convnet.json");
    assert.is(r.inputScale, 255);
    assert.match(
      r.text!,
      "input 28x28x1\nconv2d 8 3x3 padding=same bias=false\nbatchnorm\nrelu\nmaxpool 2x2\nconv2d 16 3x3 relu\n" +
        "avgpool 2x2 stride=1\nflatten\ndropout 0.25\ndense 10 softmax\n",
    );
    // 72 + 32 (BN) + 1,168 + 19,370.
    assert.is(totalParams(r.program!.models[0]!), 72 + 32 + 1168 + 19370);
  },
);

fixtures(
  "Keras 3 Functional (__keras_tensor__ inbound nodes, flat input_layers, Add and Concatenate)",
  async () => {
    const r = await imported(fixture("keras3-functional-merge.json"), "keras3-functional-merge.json");
    assert.match(
      r.text!,
      "input 16\ndense 32 gelu name=hidden\nlayernorm epsilon=0.000001\nresidual {\n  dense 32 tanh\n}\nconcat hidden\nelu\ndense 3\n",
    );
    // 544 + 64 + 1,056 + 195.
    assert.is(totalParams(r.program!.models[0]!), 544 + 64 + 1056 + 195);
  },
);

fixtures("--data sets the train block's data line", async () => {
  const r = await imported(fixture("keras3-functional-merge.json"), "m.json", "csv:iris.csv");
  assert.match(r.text!, "data csv:iris.csv\n");
});

tf.engine(); // tfjs-core is loaded for the layers above.
roundTrip.run();
tfjs.run();
fixtures.run();
