// nnc import refuses what nnc cannot express, with a named error at the layer's line of the JSON, and writes
// nothing: unsupported layer classes and config values, graphs nnc's language cannot write, model structures it
// has no counterpart for, and files that are no Keras model. The CLI in-process and as the user runs it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { imported, refused } from "./helpers.ts";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/keras/${name}`, import.meta.url), "utf8")) as {
    config: { layers: { class_name: string; config: Record<string, unknown>; inbound_nodes?: unknown[] }[] };
  } & Record<string, unknown>;

/** The 1-based line of a layer's `"name": "..."` in the JSON text that `refused` writes (2-space indent). */
const lineOf = (json: unknown, name: string) =>
  JSON.stringify(json, null, 2)
    .split("\n")
    .findIndex((l) => l.includes(`"name": ${JSON.stringify(name)}`)) + 1;

/** The Keras 2 MLP fixture with one layer's class or config changed. */
function mlpWith(
  index: number,
  change: (layer: { class_name: string; config: Record<string, unknown> }) => void,
) {
  const doc = fixture("keras2-sequential-mlp.json");
  change(doc.config.layers[index]!);
  return doc;
}

async function expectError(json: unknown, code: string, layer: string, text: string | RegExp) {
  const diagnostics = await refused(json);
  const d = diagnostics.find((x) => x.code === code);
  assert.ok(d, `expected ${code}, got ${diagnostics.map((x) => `${x.code} ${x.message}`).join("; ")}`);
  assert.match(d!.message, `'${layer}'`);
  assert.match(d!.message, text);
  assert.is(d!.line, lineOf(json, layer), `${code} points at ${layer}'s line`);
  assert.is(d!.file, "model.json");
}

const errors = suite("import: named errors at the layer's JSON line");

errors("E742: a layer class nnc has no op for (LSTM), with the classes nnc imports", async () => {
  const json = mlpWith(2, (l) => (l.class_name = "LSTM"));
  const [d] = await refused(json);
  assert.is(d!.code, "E742");
  assert.is(d!.message, "layer 'dense' is a LSTM, which nnc has no op for");
  assert.match(d!.help!, /nnc imports InputLayer, .*Dense, .*Conv2D, .*Rescaling/);
  assert.is(d!.line, lineOf(json, "dense"));
});

errors("E743: config values nnc cannot express, every one of them in one run", async () => {
  const cases: [number, (c: Record<string, unknown>) => void, string, string | RegExp][] = [
    [2, (c) => (c["activation"] = "mish"), "dense", 'activation="mish": nnc\'s activations are relu'],
    [3, (c) => (c["renorm"] = true), "batch_normalization", "renorm=true: nnc has no batch renormalization"],
    [3, (c) => (c["axis"] = [0, 1]), "batch_normalization", "nnc normalizes over the last axis only"],
    [4, (c) => (c["noise_shape"] = [null, 1]), "dropout", "noise_shape"],
    [6, (c) => (c["axis"] = -2), "softmax", "nnc computes softmax over the last axis only"],
    [
      0,
      (c) => (c["batch_input_shape"] = [null, null, 28]),
      "flatten_input",
      "every per-sample dimension known",
    ],
  ];
  for (const [index, change, layer, text] of cases) {
    await expectError(
      mlpWith(index, (l) => change(l.config)),
      "E743",
      layer,
      text,
    );
  }
  const both = mlpWith(2, (l) => {
    l.config["activation"] = "mish";
    l.config["units"] = 0;
  });
  assert.is((await refused(both)).filter((d) => d.code === "E743").length, 2);
});

errors(
  "E743: a positive normalization axis that is not the input's last (BatchNormalization axis 1 on images)",
  async () => {
    const doc = fixture("keras2-converted-resnet.json") as unknown as {
      modelTopology: {
        model_config: { config: { layers: { name: string; config: Record<string, unknown> }[] } };
      };
    };
    doc.modelTopology.model_config.config.layers.find((l) => l.name === "bn1")!.config["axis"] = [1];
    await expectError(
      doc,
      "E743",
      "bn1",
      "axis=1: nnc computes it over the last axis only (3 for this rank-4 input)",
    );
  },
);

errors("E743: Conv2D's dilation not two positive integers, groups, channels_first, causal padding", async () => {
  const doc = () =>
    fixture("keras3-sequential-convnet.json") as unknown as {
      config: { layers: { config: Record<string, unknown> }[] };
    };
  for (const [key, value, text] of [
    // dilation_rate [2, 2] is conv2d's dilation=2 (test/ops/conv2d.test.ts); 0 is no rate.
    ["dilation_rate", [0, 2], "two positive integers"],
    ["groups", 2, "not grouped"],
    ["data_format", "channels_first", "channels_last (NHWC)"],
    ["padding", "causal", "nnc takes 'valid' or 'same'"],
  ] as const) {
    const json = doc();
    json.config.layers[2]!.config[key] = value;
    await expectError(json, "E743", "conv2d", text);
  }
});

errors("Rescaling: only at the input, offset 0 (E743, E744)", async () => {
  const json = fixture("keras3-sequential-convnet.json") as unknown as {
    config: { layers: { class_name: string; config: Record<string, unknown> }[] };
  };
  json.config.layers[1]!.config["offset"] = -1;
  await expectError(json, "E743", "rescaling", "offset=-1: nnc's input scale divides raw values");
  const mid = fixture("keras3-sequential-convnet.json") as unknown as typeof json;
  const [rescaling] = mid.config.layers.splice(1, 1);
  mid.config.layers.splice(4, 0, rescaling!);
  await expectError(mid, "E744", "rescaling", "nnc scales only the model's input");
});

errors("E744: graphs nnc's language cannot write", async () => {
  const doc = () =>
    fixture("keras3-functional-merge.json") as unknown as {
      config: { layers: { name: string; inbound_nodes: { args: unknown[] }[] }[] };
    };
  const history = (name: string) => ({
    class_name: "__keras_tensor__",
    config: { shape: [null, 32], dtype: "float32", keras_history: [name, 0, 0] },
  });
  // A Concatenate whose first input was computed before its second (DenseNet's concatenate([x, f(x)])).
  const early = doc();
  early.config.layers.find((l) => l.name === "joined")!.inbound_nodes = [
    { args: [[history("hidden"), history("skip")]] },
  ];
  await expectError(early, "E744", "joined", "nnc's concat joins the current tensor");
  // Three inputs on one chain are one add (the last computed, the others named) ...
  const chain = doc();
  chain.config.layers.find((l) => l.name === "skip")!.inbound_nodes = [
    { args: [[history("norm"), history("mix"), history("hidden")]] },
  ];
  assert.match((await imported(chain)).text!, "dense 32 tanh\nadd norm hidden\nconcat hidden\n");
  // ... but three inputs on two branches (features -> hidden, features -> norm -> mix) are not.
  const three = doc();
  three.config.layers.find((l) => l.name === "norm")!.inbound_nodes = [{ args: [history("features")] }];
  three.config.layers.find((l) => l.name === "skip")!.inbound_nodes = [
    { args: [[history("mix"), history("norm"), history("hidden")]] },
  ];
  await expectError(three, "E744", "skip", "adds 3 inputs, more than one of them on a branch of its own");
});

errors("E741: structures nnc has no counterpart for (shared layer, two outputs, nested model)", async () => {
  const shared = fixture("keras3-functional-merge.json") as unknown as {
    config: { layers: { name: string; inbound_nodes: unknown[] }[]; output_layers: unknown };
  };
  const mix = shared.config.layers.find((l) => l.name === "mix")!;
  mix.inbound_nodes = [mix.inbound_nodes[0], mix.inbound_nodes[0]];
  await expectError(shared, "E741", "mix", "called 2 times (shared weights)");

  const two = fixture("keras3-functional-merge.json") as unknown as typeof shared;
  two.config.output_layers = [
    ["logits", 0, 0],
    ["hidden", 0, 0],
  ];
  const d = (await refused(two))[0]!;
  assert.is(d.code, "E741");
  assert.match(d.message, "it has 2 outputs (logits, hidden)");

  const nested = mlpWith(2, (l) => (l.class_name = "Sequential"));
  await expectError(nested, "E741", "dense", "nested Sequential model");
});

errors("E745: a layer that does not check as nnc reads it (Dense on images without Flatten)", async () => {
  const json = mlpWith(1, (l) => (l.class_name = "Dropout"));
  json.config.layers[1]!.config["rate"] = 0.1;
  await expectError(
    json,
    "E745",
    "dense",
    "'dense' expects rank-2 [batch, features] input, got rank-3 [?, 28, 28]; add 'flatten' before it [E302]",
  );
});

errors("E740: not JSON, not a Keras model, a graph model", async () => {
  const bad = await refused('{"class_name": "Sequential",\n  "config": [}');
  assert.is(bad[0]!.code, "E740");
  assert.is(bad[0]!.line, 2);
  assert.match((await refused({ hello: 1 }))[0]!.message, "found no model");
  assert.match(
    (await refused({ format: "graph-model", modelTopology: { node: [] } }))[0]!.message,
    /found no model|graph/,
  );
  // Nested 200,000 deep (as text: JSON.stringify itself would overflow): refused, not a stack overflow.
  const deep =
    '{"class_name": "Sequential", "config": {"layers": [], "x": ' +
    "[".repeat(200_000) +
    "]".repeat(200_000) +
    "}}";
  assert.match((await refused(deep))[0]!.message, "more than 64 levels deep");
});

const cli = suite("nnc import (CLI)");
const tmp = mkdtempSync(join(tmpdir(), "nnc-import-"));
const nnc = async (...argv: string[]) => {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
};

cli("-o writes a spec that nnc fmt --check and nnc check accept", async () => {
  const input = new URL("../fixtures/keras/keras2-converted-resnet.json", import.meta.url).pathname;
  const out = join(tmp, "resnet.nn");
  const r = await nnc("import", input, "-o", out);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, `imported 22 layers from ${input} into ${out}`);
  assert.is((await nnc("fmt", "--check", out)).code, 0);
  const checked = await nnc("check", out);
  assert.is(checked.code, 0, checked.stderr);
  // Without -o the spec goes to stdout.
  const printed = await nnc("import", input);
  assert.is(printed.stdout, readFileSync(out, "utf8"));
});

cli(
  "an error renders like the checker's (file:line:col, the JSON line, a caret) and nothing is written",
  async () => {
    const json = mlpWith(2, (l) => (l.class_name = "GRU"));
    const input = join(tmp, "gru.json");
    writeFileSync(input, JSON.stringify(json, null, 2));
    const out = join(tmp, "gru.nn");
    const r = await nnc("import", input, "-o", out);
    assert.is(r.code, 1);
    const line = lineOf(json, "dense");
    assert.match(r.stderr, `${input}:${line}:`);
    assert.match(r.stderr, "error[E742]: layer 'dense' is a GRU, which nnc has no op for");
    assert.match(r.stderr, `${line} |`);
    assert.match(r.stderr, /"name": "dense",\n\s+\|\s+\^~~~~~~\n/);
    assert.match(r.stderr, "nothing written");
    assert.not.ok(existsSync(out));
    const missing = await nnc("import", join(tmp, "nope.json"));
    assert.is(missing.code, 1);
    assert.match(missing.stderr, "error[E001]");
  },
);

errors.run();
cli.run();
