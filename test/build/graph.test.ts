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
    "h_1 <- add",
    "add_1 <- h_1, h_1",
    "h_2 <- add_1",
    "add_2 <- h_2, h_2",
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
      "z <- input_layer",
      "activation <- z",
      "add <- activation, z",
      "z_1 <- add",
      "activation_1 <- z_1",
      "add_1 <- activation_1, z_1",
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

graph(
  "a model larger than the expansion bound is one error, not a hang, even where nothing is emitted",
  () => {
    // Unbounded, each of these ran for minutes: the suite would not finish.
    const bounded = (text: string, expected: string[]) =>
      assert.equal(codes(diagnosticsOf(text)), expected, text);

    bounded("input 4\nrepeat 20000 { repeat 20000 { dense 4 } }\ndense 2 softmax", ["E224"]);
    bounded("input 8\nrepeat 20000 { repeat 20000 { } }\ndense 2 softmax", []);
    bounded("input 8\nrepeat 20000 { repeat 20000 { bogus } }\ndense 2 softmax", ["E200"]);
    // Each block uses the one before twice: 2^30 uses of an empty body.
    const chain = Array.from({ length: 30 }, (_, k) => `block b${k + 1}(x) { b${k} x; b${k} x }`).join("\n");
    bounded(`block b0(x) { }\n${chain}\ninput 4\nb30 1\ndense 2 softmax`, ["E223", "E224"]);
  },
);

graph(
  "names: repeated and block-local names are made unique Keras style; model names stay as written",
  () => {
    assert.equal(edges("input 4\nrepeat 2 { repeat 2 { dense 4 name=a } }\ndense 2 softmax").slice(1, 5), [
      "a <- input_layer",
      "a_1 <- a",
      "a_2 <- a_1",
      "a_3 <- a_2",
    ]);
    // The user wrote q twice in one scope... no: the second is inside a repeat, local to its pass.
    assert.equal(edges("input 4\ndense 8 name=q\nrepeat 1 { dense 8 name=q }\ndense 2 softmax").slice(1, 3), [
      "q <- input_layer",
      "q_1 <- q",
    ]);
    assert.equal(codes(diagnosticsOf("input 4\ndense 8 name=q\ndense 8 name=q\ndense 2 softmax")), ["E213"]);
  },
);

graph("block parameters reach repeat counts; a name local to a repeat says so when used outside it", () => {
  assert.equal(edges("block stage(n, f) { repeat n { dense f } }\ninput 4\nstage 3 5\ndense 2 softmax"), [
    "input_layer <- ",
    "dense <- input_layer",
    "dense_1 <- dense",
    "dense_2 <- dense_1",
    "dense_3 <- dense_2",
  ]);
  const [d] = diagnosticsOf("input 4\nrepeat 2 { dense 4 name=c }\nadd c\ndense 2 softmax");
  assert.is(d!.code, "E218");
  assert.match(d!.help!, "named inside a repeat or block body");
});

graph("a residual whose body is all left out reports only that, not its orphaned shortcut (E314)", () => {
  assert.equal(
    codes(
      diagnosticsOf(
        "input 8x8x1\nresidual { bogus 3; shortcut { conv2d 16 1x1 } }\nflatten\ndense 2 softmax",
      ),
    ),
    ["E200"],
  );
});

graph(
  "a refused block definition is reported once, not again at each use; 'repeat N;' in a model says how",
  () => {
    assert.equal(codes(diagnosticsOf("block b(relu) { dense 4 }\ninput 4\nb 1\nb 2\ndense 2 softmax")), [
      "E222",
    ]);
    assert.equal(codes(diagnosticsOf("block b(x, x) { dense x }\ninput 4\nb 1 2\ndense 2 softmax")), [
      "E223",
    ]);
    const [r] = diagnosticsOf("input 4\nrepeat 2\ndense 2 softmax");
    assert.is(r!.code, "E223");
    assert.match(r!.message, "repeat N { LAYERS }");
  },
);

graph("an error inside a block body names the use it was expanded from", () => {
  const text =
    "block body(f) {\n  conv2d f 3x3 padding=same\n  dense 4\n}\ninput 8x8x1\nbody 4\nflatten\ndense 2 softmax";
  const [d] = compile(text, { filename: "b.nn" }).diagnostics;
  assert.is(d!.code, "E302");
  assert.equal([d!.line, d!.related?.map((r) => [r.line, r.column])], [3, [[6, 1]]]);
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
