// The activations of issue 20 (leaky_relu, selu, swish and silu, softplus, hard_sigmoid, exponential) and the op
// prelu, through every phase: as their own statement and as the ACTIVATION word of dense and conv2d, against
// tfjs-layers' own layers (parameters, output shapes, predictions of the Layers export after tf.loadLayersModel),
// the compiled step against autograd on wasm and cpu, two threads against one, nnc import, ONNX in onnxruntime,
// the formatter and the diagnostics (W420, E780).
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { importKeras } from "../../src/import/import.ts";
import { activationOf } from "../../src/ops/activations/index.ts";
import { kerasTopology } from "../../src/save/keras.ts";
import { program, useBackend } from "../lower/helpers.ts";
import { kerasParity } from "./parity.ts";
import { codesOf, diagnosticOf, formatted, importRoundTrip, onnxDifference } from "./phases.ts";
import { assertCompiledStepAgrees, assertThreadsAgree, compiledStepCovers, TRAIN } from "./step.ts";

const A = suite("activations of issue 20");

/** The statements under test, each with the tfjs-layers layer that computes the same. */
const STATEMENTS: Array<[statement: string, layer: () => tfl.layers.Layer]> = [
  ["leaky_relu", () => tfl.layers.leakyReLU({})],
  ["leaky_relu alpha=0.05", () => tfl.layers.leakyReLU({ alpha: 0.05 })],
  ["selu", () => tfl.layers.activation({ activation: "selu" })],
  ["swish", () => tfl.layers.activation({ activation: "swish" })],
  ["silu", () => tfl.layers.activation({ activation: "swish" })],
  ["softplus", () => tfl.layers.activation({ activation: "softplus" })],
  ["hard_sigmoid", () => tfl.layers.activation({ activation: "hardSigmoid" })],
];
/** The ACTIVATION words tfjs-layers loads (exponential is W420's), leaky_relu with its option too. */
const WORDS = ["leaky_relu", "leaky_relu alpha=0.05", "selu", "swish", "silu", "softplus", "hard_sigmoid"];

/** Each as a statement between two dense layers, and as the ACTIVATION word of a dense and a conv2d. */
const asStatement = (s: string) => `input 6\ndense 5\n${s}\ndense 3 softmax`;
const asWord = (w: string) => `input 6\ndense 5 ${w}\ndense 3 softmax`;
const asConvWord = (w: string) => `input 5x5x2\nconv2d 3 3x3 padding=same ${w}\nflatten\ndense 3`;

A("each activation equals tfjs-layers' own (x in [-4, 4], 1e-6)", async () => {
  await useBackend("wasm");
  const x = tf.reshape(tf.linspace(-4, 4, 81), [81, 1]);
  for (const [statement, layer] of STATEMENTS) {
    const name = statement.split(" ")[0]!;
    const alpha = statement.includes("alpha=") ? { alpha: Number(statement.split("=")[1]) } : {};
    const ours = activationOf(name as "selu")
      .forward(tf, x, alpha)
      .dataSync();
    const theirs = (layer().apply(x) as tf.Tensor).dataSync();
    for (let i = 0; i < ours.length; i++)
      assert.ok(Math.abs(ours[i]! - theirs[i]!) < 1e-6, `${statement} at ${x.dataSync()[i]}`);
  }
  x.dispose();
});

A(
  "statements: parameters and shapes of tfjs-layers' own layer, predictions of the export after load",
  async () => {
    for (const [statement, layer] of STATEMENTS) {
      const parity = await kerasParity(asStatement(statement));
      const node = parity.layers.find((l) => l.op === "activation")!;
      const own = layer();
      const out = own.apply(tfl.input({ shape: [5] })) as tfl.SymbolicTensor;
      assert.is(node.nncParams, own.countParams(), statement);
      assert.equal(node.nncShape, out.shape, statement);
      for (const l of parity.layers) assert.is(l.tfjsParams, l.nncParams, `${statement}: ${l.name}`);
      assert.ok(parity.maxAbs > 1e-3, `${statement}: predictions are not all ~0`);
      assert.ok(parity.maxDiff < 1e-5, `${statement}: predictions differ by ${parity.maxDiff}`);
    }
  },
);

A("ACTIVATION words of dense and conv2d: the export predicts what nnc predicts", async () => {
  for (const w of WORDS) {
    for (const spec of [asWord(w), asConvWord(w)]) {
      const parity = await kerasParity(spec);
      for (const l of parity.layers) {
        assert.is(l.tfjsParams, l.nncParams, `${w}: ${l.name}`);
        assert.equal(l.tfjsShape, l.nncShape, `${w}: ${l.name}`);
      }
      assert.ok(parity.maxAbs > 1e-3);
      assert.ok(parity.maxDiff < 1e-5, `${spec}: predictions differ by ${parity.maxDiff}`);
    }
  }
});

A("leaky_relu as an ACTIVATION word exports a linear layer and a LeakyReLU after it", () => {
  const spec = "input 6\ndense 5 leaky_relu name=h\ndense 5 leaky_relu alpha=0.1\nadd h\ndense 3 softmax";
  const topology = kerasTopology(program(spec).models[0]!, "t") as {
    config: {
      layers: Array<{ class_name: string; config: Record<string, unknown>; inbound_nodes?: unknown }>;
    };
  };
  const layers = topology.config.layers;
  const dense = layers.find((l) => l.config["name"] === "h")!;
  assert.is(dense.config["activation"], "linear");
  const leaky = layers.filter((l) => l.class_name === "LeakyReLU");
  assert.equal(
    leaky.map((l) => [l.config["name"], l.config["alpha"], l.inbound_nodes]),
    [
      ["h_leaky_re_lu", 0.3, [[["h", 0, 0, {}]]]],
      ["dense_leaky_re_lu", 0.1, [[["dense", 0, 0, {}]]]],
    ],
  );
  // The add reads the activated outputs.
  const add = layers.find((l) => l.class_name === "Add")!;
  assert.equal(add.inbound_nodes, [
    [
      ["dense_leaky_re_lu", 0, 0, {}],
      ["h_leaky_re_lu", 0, 0, {}],
    ],
  ]);
});

for (const backend of ["wasm", "cpu"] as const) {
  A(`the compiled step covers each and equals autograd (${backend})`, async () => {
    for (const [statement] of STATEMENTS) {
      const largest = await assertCompiledStepAgrees(asStatement(statement) + TRAIN, backend);
      assert.ok(largest > 1e-6, `${statement}: gradients flow`);
    }
    for (const w of [...WORDS, "exponential"]) {
      await assertCompiledStepAgrees(asWord(w) + TRAIN, backend);
      await assertCompiledStepAgrees(asConvWord(w) + TRAIN, backend);
    }
  });
}

A("two threads train what one thread trains", async () => {
  await assertThreadsAgree(
    "input 6\ndense 5 leaky_relu alpha=0.2\nswish\ndense 5 selu\nleaky_relu alpha=0.1\nprelu\ndense 3 softmax" +
      TRAIN,
  );
});

A(
  "nnc import reads each statement and word back (a dense's leaky_relu from its LeakyReLU layer)",
  async () => {
    // silu is exported as swish, the name tfjs-layers knows: it comes back as swish (the same function).
    for (const [statement] of STATEMENTS.filter(([s]) => s !== "silu")) {
      const text = await importRoundTrip(asStatement(statement));
      assert.ok(text.split("\n").includes(statement), `${statement} in\n${text}`);
    }
    for (const w of WORDS.filter((w) => w !== "silu")) {
      const text = await importRoundTrip(asWord(w));
      assert.ok(text.split("\n").includes(`dense 5 ${w}`), `${w} in\n${text}`);
      const conv = await importRoundTrip(asConvWord(w));
      assert.ok(
        conv
          .split("\n")
          .includes(
            `conv2d 3 3x3 ${w.split(" ")[0]} padding=same${w.includes(" ") ? ` ${w.split(" ")[1]}` : ""}`,
          ),
        conv,
      );
    }
    const silu = await importKeras(
      JSON.stringify({ modelTopology: kerasTopology(program(asWord("silu")).models[0]!, "t") }),
      { filename: "model.json" },
    );
    assert.match(silu.text!, "dense 5 swish");
    // A LeakyReLU that is not nnc's export of a word (another name) stays a statement of its own.
    const topology = kerasTopology(program(asWord("leaky_relu alpha=0.1")).models[0]!, "t") as {
      config: { layers: Array<{ config: Record<string, unknown> }> };
    };
    topology.config.layers.find((l) => l.config["name"] === "dense_leaky_re_lu")!.config["name"] = "lr";
    const r = await importKeras(JSON.stringify({ modelTopology: topology }), { filename: "model.json" });
    assert.ok(r.ok, r.diagnostics.map((d) => d.message).join("\n"));
    assert.match(r.text!, /dense 5\n\s*leaky_relu alpha=0.1\n/);
  },
);

A("E781: alpha= beside an activation that has no alpha; the statement forms refuse it (E201)", () => {
  assert.ok(codesOf("input 6\ndense 5 relu alpha=0.1\ndense 3").includes("E781"));
  assert.ok(codesOf("input 6\ndense 5 alpha=0.1\ndense 3").includes("E781"));
  assert.ok(codesOf("input 4x4x1\nconv2d 2 3x3 swish alpha=0.1\nflatten\ndense 3").includes("E781"));
  assert.match(diagnosticOf("input 6\ndense 5 relu alpha=0.1\ndense 3", "E781").message, "leaky_relu");
  assert.not.ok(codesOf("input 6\ndense 5 leaky_relu alpha=0.1\ndense 3").includes("E781"));
  assert.ok(codesOf("input 6\ndense 5\nrelu alpha=0.1\ndense 3").includes("E201"));
});

A(
  "nnc import: Keras 3's LeakyReLU(negative_slope) and ReLU(negative_slope), and refuses the 0.2 string",
  async () => {
    const model = (layer: unknown) => ({
      class_name: "Sequential",
      config: {
        name: "m",
        layers: [
          { class_name: "InputLayer", config: { name: "in", batch_shape: [null, 4] } },
          { class_name: "Dense", config: { name: "d", units: 3 } },
          layer,
        ],
      },
    });
    const read = async (layer: unknown) =>
      importKeras(JSON.stringify({ modelTopology: model(layer) }), { filename: "model.json" });
    const keras3 = await read({ class_name: "LeakyReLU", config: { name: "l", negative_slope: 0.2 } });
    assert.match(keras3.text!, "leaky_relu alpha=0.2");
    const relu = await read({ class_name: "ReLU", config: { name: "r", negative_slope: 0.1 } });
    assert.match(relu.text!, "leaky_relu alpha=0.1");
    const word = await read({ class_name: "Activation", config: { name: "a", activation: "leaky_relu" } });
    assert.not.ok(word.ok, "Keras' leaky_relu string (slope 0.2) is not nnc's word (0.3)");
    assert.match(word.diagnostics.map((d) => d.message).join("\n"), "0.2");
  },
);

A("ONNX export predicts what nnc predicts", async () => {
  const specs = [
    ...STATEMENTS.map(([s]) => asStatement(s)),
    ...WORDS.map(asConvWord),
    // conv1d's export transposes around its Conv: its activation (and leaky_relu's alpha) comes after.
    "input 8x2\nconv1d 3 3 leaky_relu alpha=0.05\nflatten\ndense 3",
    asWord("exponential"),
    asStatement("exponential"),
    "input 6\ndense 5\nprelu\ndense 3",
    "input 4x4x2\nconv2d 3 3x3 padding=same\nprelu shared_axes=1x2\nconv2d 2 1x1\nflatten\ndense 3",
  ];
  for (const spec of specs) {
    const { maxDiff, maxAbs } = await onnxDifference(spec);
    assert.ok(maxAbs > 1e-3, spec);
    assert.ok(maxDiff < 1e-5, `${spec}: ONNX differs by ${maxDiff}`);
  }
});

A("exponential: W420 (tf.loadLayersModel cannot load it), in either form", () => {
  assert.ok(codesOf(asWord("exponential")).includes("W420"));
  assert.ok(codesOf(asStatement("exponential")).includes("W420"));
  assert.match(diagnosticOf(asWord("exponential"), "W420").message, "tf.loadLayersModel");
  for (const w of WORDS) assert.not.ok(codesOf(asWord(w)).includes("W420"), w);
});

A("the formatter keeps each statement and word", async () => {
  for (const [statement] of STATEMENTS) {
    const spec = `${asStatement(statement)}\n`;
    assert.is(await formatted(spec.replace(statement, `${statement}   `)), spec);
  }
  const spec = "input 6\ndense 5 swish\ndense 4 leaky_relu\nprelu shared_axes=1\ndense 3 softmax\n";
  assert.is(await formatted(spec), spec);
});

const P = suite("op prelu");

const PRELUS: Array<[spec: string, sharedAxes: number[] | undefined, input: number[]]> = [
  ["input 6\ndense 5\nprelu\ndense 3 softmax", undefined, [5]],
  ["input 4x4x2\nconv2d 3 3x3 padding=same\nprelu\nflatten\ndense 3", undefined, [4, 4, 3]],
  ["input 4x4x2\nconv2d 3 3x3 padding=same\nprelu shared_axes=1x2\nflatten\ndense 3", [1, 2], [4, 4, 3]],
  ["input 4x4x2\nconv2d 3 3x3 padding=same\nprelu shared_axes=3\nflatten\ndense 3", [3], [4, 4, 3]],
];

P(
  "parameters and shape equal tfjs-layers' PReLU (its API and the export); predictions after load",
  async () => {
    for (const [spec, sharedAxes, input] of PRELUS) {
      const parity = await kerasParity(spec);
      const node = parity.layers.find((l) => l.op === "prelu")!;
      const own = tfl.layers.prelu(sharedAxes ? { sharedAxes } : {});
      const out = own.apply(tfl.input({ shape: input })) as tfl.SymbolicTensor;
      assert.is(node.nncParams, own.countParams(), spec);
      assert.is(node.tfjsParams, node.nncParams, spec);
      assert.equal(node.nncShape, out.shape, spec);
      assert.ok(parity.maxAbs > 1e-3);
      assert.ok(parity.maxDiff < 1e-5, `${spec}: predictions differ by ${parity.maxDiff}`);
    }
  },
);

for (const backend of ["wasm", "cpu"] as const) {
  P(`the compiled step covers it and equals autograd (${backend})`, async () => {
    for (const [spec] of PRELUS) {
      assert.ok(compiledStepCovers(spec + TRAIN));
      await assertCompiledStepAgrees(spec + TRAIN, backend);
    }
  });
}

P("alpha trains: one epoch moves it off its initial zeros", async () => {
  await useBackend("wasm");
  const { buildModel } = await import("../../src/lower/model.ts");
  const { blobData } = await import("../lower/helpers.ts");
  const m = buildModel(program("input 4\ndense 6\nprelu\ndense 3 softmax" + TRAIN), { backend: "wasm" });
  assert.ok(
    m
      .getWeights()
      ["p_re_lu/alpha"]!.dataSync()
      .every((v) => v === 0),
    "Keras' zeros",
  );
  await m.fit(blobData(), { threads: 1 });
  const alpha = Array.from(m.getWeights()["p_re_lu/alpha"]!.dataSync());
  m.dispose();
  assert.ok(
    alpha.some((v) => Math.abs(v) > 1e-4),
    `alpha moved: ${alpha.map((v) => v.toFixed(4)).join(" ")}`,
  );
});

P("nnc import reads it back, shared_axes too", async () => {
  for (const [spec] of PRELUS) {
    const text = await importRoundTrip(spec);
    const line = spec.split("\n").find((l) => l.startsWith("prelu"))!;
    assert.ok(text.split("\n").includes(line), `${line} in\n${text}`);
  }
});

P("E780: shared_axes past the input's last axis or repeated", () => {
  assert.ok(codesOf("input 6\ndense 5\nprelu shared_axes=2\ndense 3").includes("E780"));
  assert.ok(codesOf("input 4x4x2\nconv2d 3 3x3\nprelu shared_axes=1x1\nflatten\ndense 3").includes("E780"));
  assert.match(diagnosticOf("input 6\ndense 5\nprelu shared_axes=2\ndense 3", "E780").message, "axis 2");
  assert.not.ok(codesOf(PRELUS[2]![0]).includes("E780"));
});

A.run();
P.run();
