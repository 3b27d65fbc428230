// Graphs in the language: add/concat by name, residual (with and without shortcut), repeat and blocks expand
// into plain nodes with the right inputs, names, spans and Keras parameter counts.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { summarizeModel } from "../../src/check/summary.ts";
import { compile } from "../../src/compile.ts";
import { build, checked, codes, diagnosticsOf } from "./helpers.ts";

const RESNET = readFileSync(new URL("../../specs/resnet.nn", import.meta.url), "utf8");
const DEEP = readFileSync(new URL("../../specs/resnet-deep.nn", import.meta.url), "utf8");

/** name <- inputs, one string per node. */
const edges = (text: string, model = 0) =>
  checked(text).program.models[model]!.layers.map((l) => `${l.name} <- ${l.inputs.join(", ")}`);

const graph = suite("builder: graphs");

graph("add and concat take the current tensor, then the named earlier layers", () => {
  assert.equal(edges("input 4\ndense 4 name=a\ndense 4 name=b\nadd a\nconcat a b axis=-1\ndense 2 softmax"), [
    "input_layer <- ",
    "a <- input_layer",
    "b <- a",
    "add <- b, a",
    "concatenate <- add, a, b",
    "dense <- concatenate",
  ]);
});

graph("residual adds the body to its input; a shortcut replaces the identity", () => {
  const text =
    "input 8x8x4\nconv2d 4 3x3 padding=same name=stem\nresidual { conv2d 4 3x3 padding=same; relu }\n" +
    "residual { conv2d 8 3x3 stride=2 padding=same; shortcut { conv2d 8 1x1 stride=2 } }\nflatten\ndense 2 softmax";
  assert.equal(edges(text), [
    "input_layer <- ",
    "stem <- input_layer",
    "conv2d <- stem",
    "activation <- conv2d",
    "add <- activation, stem",
    "conv2d_1 <- add",
    "conv2d_2 <- add",
    "add_1 <- conv2d_1, conv2d_2",
    "flatten <- add_1",
    "dense <- flatten",
  ]);
});

graph("repeat expands its body in sequence; names inside are per pass", () => {
  assert.equal(edges("input 4\nrepeat 3 { dense 4 name=h; add h }\ndense 2 softmax"), [
    "input_layer <- ",
    "h <- input_layer",
    "add <- h, h",
    "repeat2_h <- add",
    "add_1 <- repeat2_h, repeat2_h",
    "repeat3_h <- add_1",
    "add_2 <- repeat3_h, repeat3_h",
    "dense <- add_2",
  ]);
});

graph("a block use is its body with the arguments in place; names are local to each use", () => {
  const text =
    "block unit(n, act=relu) { dense n name=z; activation act; add z }\n" +
    "model m { input 4; unit 4; unit 4 act=tanh; dense 2 softmax }";
  const program = checked(text).program;
  const layers = program.models[0]!.layers;
  assert.equal(
    layers.map((l) => `${l.name} <- ${l.inputs.join(", ")}`),
    [
      "input_layer <- ",
      "unit_z <- input_layer",
      "activation <- unit_z",
      "add <- activation, unit_z",
      "unit_1_z <- add",
      "activation_1 <- unit_1_z",
      "add_1 <- activation_1, unit_1_z",
      "dense <- add_1",
    ],
  );
  assert.equal(
    layers.filter((l) => l.op === "activation").map((l) => (l.op === "activation" ? l.activation : "")),
    ["relu", "tanh"],
  );
});

graph("every expanded node keeps its source line and the spans of the uses it came from", () => {
  const text = "block unit(n) { dense n }\nmodel m {\n  input 4\n  repeat 2 { unit 3 }\n  dense 2 softmax\n}";
  const layers = build(text).program!.models[0]!.layers;
  const body = text.indexOf("dense n");
  const use = text.indexOf("unit 3");
  const repeat = text.indexOf("repeat");
  const [first, second] = layers.filter((l) => l.op === "dense" && l.name !== "dense_2");
  assert.equal(first!.span, [body, body + "dense n".length]);
  assert.equal(first!.expandedFrom, [
    [use, use + "unit 3".length],
    [repeat, repeat + "repeat".length],
  ]);
  assert.equal(second!.expandedFrom, first!.expandedFrom);
  assert.is(layers.at(-1)!.expandedFrom, undefined);
});

graph("blocks may use blocks; a block defined and never used is still checked for unknown ops", () => {
  assert.equal(
    codes(diagnosticsOf("block a(n) { dense n }\nblock b(n) { a n; a n }\ninput 4\nb 3\ndense 2 softmax")),
    [],
  );
  assert.equal(codes(diagnosticsOf("block unused { dence 3 }\ninput 4\ndense 2 softmax")), ["E200"]);
});

graph("a model larger than the expansion bound is one error, not a hang", () => {
  assert.equal(codes(diagnosticsOf("input 4\nrepeat 20000 { repeat 20000 { dense 4 } }\ndense 2 softmax")), [
    "E224",
  ]);
});

graph.run();

const resnet = suite("specs: residual networks");

// Parameter counts as Keras counts them, by hand: conv kernels kh*kw*in*out (no bias), batchnorm 4 per channel
// (gamma, beta trainable; moving mean and variance not), the dense head 32*10+10.
resnet("specs/resnet.nn: the README's example, with Keras' counts", () => {
  const result = compile(RESNET, { filename: "resnet.nn" });
  assert.ok(result.ok, result.diagnostics.map((d) => d.message).join("\n"));
  const s = summarizeModel(result.program!.models[0]!);
  const conv = (k: number, i: number, o: number) => k * k * i * o;
  const bn = (c: number) => 4 * c;
  const stem = conv(3, 1, 16) + bn(16);
  const block16 = 2 * (conv(3, 16, 16) + bn(16));
  const down = conv(3, 16, 32) + bn(32) + conv(3, 32, 32) + bn(32) + conv(1, 16, 32) + bn(32);
  const head = 32 * 10 + 10;
  assert.is(s.totalParams, stem + 2 * block16 + down + head);
  assert.is(s.nonTrainableParams, 2 * (16 + 2 * 2 * 16 + 3 * 32));
  const add = s.layers.find((l) => l.name === "add_2")!;
  assert.equal(add.outputShape, [null, 14, 14, 32]);
  assert.equal(add.inputs, ["batch_normalization_6", "batch_normalization_7"]);
});

resnet("specs/resnet-deep.nn: three stages of two basic blocks, 16/32/64 filters", () => {
  const result = compile(DEEP, { filename: "resnet-deep.nn" });
  assert.ok(result.ok, result.diagnostics.map((d) => d.message).join("\n"));
  const model = result.program!.models[0]!;
  const s = summarizeModel(model);
  const conv = (k: number, i: number, o: number) => k * k * i * o;
  const bn = (c: number) => 4 * c;
  const block = (c: number) => 2 * (conv(3, c, c) + bn(c));
  const downBlock = (i: number, o: number) =>
    conv(3, i, o) + bn(o) + conv(3, o, o) + bn(o) + conv(1, i, o) + bn(o);
  const expected =
    conv(3, 1, 16) +
    bn(16) +
    2 * block(16) +
    downBlock(16, 32) +
    block(32) +
    downBlock(32, 64) +
    block(64) +
    64 * 10 +
    10;
  assert.is(s.totalParams, expected);
  assert.is(model.layers.filter((l) => l.op === "add").length, 6);
  assert.equal(model.layers.find((l) => l.op === "globalavgpool")!.outputShape, [null, 64]);
});
resnet.run();
