import { suite } from "uvu";
import * as assert from "uvu/assert";
import { validateIR } from "../../src/ir/validate.ts";
import type { LayerOf } from "../../src/ir/schema.ts";
import { build, codes, layersOf, spanText } from "./helpers.ts";

/** A node's op fields: spans and inputs dropped (the chain's inputs are checked on their own below). */
const strip = <T extends object>(layer: T) => {
  const {
    span: _s,
    argSpans: _a,
    inputs: _i,
    ...rest
  } = layer as T & {
    span?: unknown;
    argSpans?: unknown;
    inputs?: unknown;
  };
  return rest;
};

const layers = suite("builder: layers");

layers("a chain of statements is a chain of nodes: each takes the one before", () => {
  const got = layersOf("input 4\ndense 3\nrelu\ndense 2 softmax");
  assert.equal(
    got.map((l) => l.inputs),
    [[], ["input_layer"], ["dense"], ["activation"]],
  );
});

layers("every op with Keras defaults", () => {
  const got = layersOf(
    "input 28x28x1\nconv2d 8 3\nbatchnorm\nrelu\nmaxpool 2\navgpool 2x2 stride=1\nglobalavgpool\n" +
      "layernorm\ndropout 0.5\nflatten\ndense 10 softmax",
  ).map(strip);
  assert.equal(got, [
    { op: "input", name: "input_layer", shape: [28, 28, 1] },
    {
      op: "conv2d",
      name: "conv2d",
      filters: 8,
      kernelSize: [3, 3],
      strides: [1, 1],
      padding: "valid",
      activation: "linear",
      useBias: true,
      kernelInitializer: { name: "glorot_uniform", scale: 1 },
    },
    {
      op: "batchnorm",
      name: "batch_normalization",
      momentum: 0.99,
      epsilon: 0.001,
      center: true,
      scale: true,
      variance: "biased",
    },
    { op: "activation", name: "activation", activation: "relu" },
    { op: "maxpool", name: "max_pooling2d", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
    { op: "avgpool", name: "average_pooling2d", poolSize: [2, 2], strides: [1, 1], padding: "valid" },
    { op: "globalavgpool", name: "global_average_pooling2d" },
    { op: "layernorm", name: "layer_normalization", epsilon: 0.001, center: true, scale: true },
    { op: "dropout", name: "dropout", rate: 0.5 },
    { op: "flatten", name: "flatten" },
    {
      op: "dense",
      name: "dense",
      units: 10,
      activation: "softmax",
      useBias: true,
      kernelInitializer: { name: "glorot_uniform", scale: 1 },
    },
  ]);
});

layers("options fill their IR fields", () => {
  const [, conv, bn, dense] = layersOf(
    "input 32x32x3\nconv2d 16 5x3 relu stride=2 padding=same bias=false init=he_normal init_scale=2\n" +
      "batchnorm momentum=0.9 epsilon=1e-5 center=false scale=false variance=unbiased\nflatten\n" +
      "dense 4 tanh init=lecun_uniform",
  );
  const c = conv as LayerOf<"conv2d">;
  assert.equal(
    [c.kernelSize, c.strides, c.padding, c.activation, c.useBias],
    [[5, 3], [2, 2], "same", "relu", false],
  );
  assert.equal(c.kernelInitializer, { name: "he_normal", scale: 2 });
  const b = bn as LayerOf<"batchnorm">;
  assert.equal([b.momentum, b.epsilon, b.center, b.scale, b.variance], [0.9, 1e-5, false, false, "unbiased"]);
  assert.is((dense as LayerOf<"flatten">).op, "flatten");
});

layers("Keras names: first bare, then _1, _2; name= wins and generated names skip taken ones", () => {
  const names = layersOf(
    "input 784\ndense 8 name=dense_1\ndense 8\ndense 8\nrelu\nactivation relu\ndropout 0",
  ).map((l) => l.name);
  assert.equal(names, [
    "input_layer",
    "dense_1",
    "dense",
    "dense_2",
    "activation",
    "activation_1",
    "dropout",
  ]);
});

layers("argSpans point at the argument text", () => {
  const text = "input 10\nbatchnorm momentum=0.1\ndense 12 relu";
  const [, bn, dense] = layersOf(text);
  const slice = (s?: [number, number]) => (s ? text.slice(s[0], s[1]) : undefined);
  assert.is(slice(bn!.argSpans?.["momentum"]), "momentum=0.1");
  assert.is(slice(dense!.argSpans?.["units"]), "12");
  assert.is(slice(dense!.argSpans?.["activation"]), "relu");
  assert.is(slice(dense!.span), "dense 12 relu");
});

layers("a file of bare layers is one model named after the file", () => {
  assert.is(build("input 4\ndense 2", "specs/tiny-net.nn").program!.models[0]!.name, "tiny-net");
  assert.is(build("input 4\ndense 2").program!.models[0]!.name, "model");
});
layers.run();

const train = suite("builder: train and experiments");

train("defaults when there is no train block", () => {
  const p = build("input 4\ndense 2").program!;
  assert.equal(p.train, {
    data: { source: "mnist" },
    optimizer: { type: "adam", lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    loss: { type: "auto" },
    batch: 32,
    epochs: 5,
    seed: 0,
    bnstats: { mode: "exact" },
    shuffle: true,
  });
  assert.equal(p.experiments, []);
});

train("every train setting", () => {
  const p = build(
    'input 4\ndense 2\ntrain {\n data "csv:./x.csv" validation=0.1 limit=100 scale=1\n optimizer sgd lr=0.1 momentum=0.9 nesterov=true\n' +
      " loss crossentropy from_logits=false\n batch 64\n epochs 2\n seed 7\n bnstats ema sample=500\n shuffle false\n init he_uniform scale=0.5\n}",
  ).program!;
  const { span: _span, ...t } = p.train;
  const { span: _d, ...data } = t.data;
  const { span: _l, ...loss } = t.loss;
  const { span: _o, ...optimizer } = t.optimizer;
  assert.equal(data, { source: "csv:./x.csv", validation: 0.1, limit: 100, scale: 1 });
  assert.equal(optimizer, { type: "sgd", lr: 0.1, momentum: 0.9, nesterov: true });
  assert.equal(loss, { type: "sparse_categorical_crossentropy", fromLogits: false });
  assert.equal([t.batch, t.epochs, t.seed, t.shuffle], [64, 2, 7, false]);
  assert.equal(t.bnstats, { mode: "ema", sample: 500 });
  assert.equal(t.init, { name: "he_uniform", scale: 0.5 });
  assert.equal(validateIR(p).diagnostics, []);
});

train("optimizer shorthand: `rmsprop rho=0.8` is `optimizer rmsprop rho=0.8`", () => {
  const { span: _a, ...a } = build("input 4\ntrain {\n rmsprop rho=0.8\n}").program!.train.optimizer;
  const { span: _b, ...b } = build("input 4\ntrain {\n optimizer rmsprop rho=0.8\n}").program!.train
    .optimizer;
  assert.equal(a, { type: "rmsprop", lr: 0.001, rho: 0.8, momentum: 0, epsilon: 1e-7 });
  assert.equal(a, b);
});

train("adamw, and weight decay and clipping on every optimizer, as Keras 3 spells them", () => {
  const optimizerOf = (text: string) => {
    const r = build(`input 4\ntrain {\n ${text}\n}`);
    assert.equal(r.diagnostics, [], text);
    const { span, ...o } = r.program!.train.optimizer;
    assert.ok(span, "the optimizer keeps its statement's span (for E330, E331)");
    return o;
  };
  const adam = { lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  // Keras 3 AdamW's default weight_decay is 0.004 (keras/src/optimizers/adamw.py).
  assert.equal(optimizerOf("optimizer adamw"), { type: "adamw", ...adam, weightDecay: 0.004 });
  assert.equal(optimizerOf("adamw lr=0.01 weight_decay=0.05 global_clipnorm=1"), {
    type: "adamw",
    ...adam,
    lr: 0.01,
    weightDecay: 0.05,
    globalClipnorm: 1,
  });
  assert.equal(optimizerOf("optimizer sgd weight_decay=1e-4 clipnorm=2"), {
    type: "sgd",
    lr: 0.01,
    momentum: 0,
    nesterov: false,
    weightDecay: 1e-4,
    clipnorm: 2,
  });
  assert.equal(optimizerOf("rmsprop clipvalue=0.5").clipvalue, 0.5);
  assert.equal(optimizerOf("adam weight_decay=0").weightDecay, 0);
});

train("out-of-range weight decay and clipping are positioned errors", () => {
  for (const [text, code] of [
    ["adamw weight_decay=-0.1", "E206"],
    ["sgd clipnorm=0", "E206"],
    ["adam clipvalue=-1", "E206"],
    ["adam global_clipnorm=x", "E202"],
  ] as const) {
    const { diagnostics } = build(`input 4\ntrain {\n ${text}\n}`);
    assert.equal(codes(diagnostics), [code], text);
    assert.ok(diagnostics[0]!.span, text);
  }
});

train("experiments: defaults, overrides, lr_scale reference", () => {
  const p = build(
    "model a {\n input 4\n dense 2\n}\nmodel b {\n input 4\n dense 2\n}\ntrain {\n batch 16\n}\n" +
      "experiment e1 {\n vary batch 32 64\n lr_scale sqrt\n}\n" +
      "experiment e2 {\n compare b\n vary optimizer adam sgd\n vary lr 0.1 0.01\n repeat 3\n target 0.97\n lr_scale linear ref=8\n epochs 1\n}",
  ).program!;
  const [e1, e2] = p.experiments;
  assert.equal(e1!.compare, ["a", "b"]);
  assert.equal(e1!.lrScale, { rule: "sqrt", referenceBatch: 16 });
  assert.equal(e1!.repeat, 1);
  assert.is(e1!.train, undefined);
  assert.equal(e2!.compare, ["b"]);
  assert.equal(
    e2!.vary.map((v) => [v.key, v.values]),
    [
      ["optimizer", ["adam", "sgd"]],
      ["lr", [0.1, 0.01]],
    ],
  );
  assert.equal([e2!.repeat, e2!.target, e2!.lrScale], [3, 0.97, { rule: "linear", referenceBatch: 8 }]);
  assert.equal(e2!.train, { epochs: 1 });
  assert.equal(validateIR(p).diagnostics, []);
});

train("W406: vary batch without lr_scale", () => {
  const warn = build("input 4\nexperiment e {\n vary batch 32 64\n}");
  assert.equal(codes(warn.diagnostics), ["W406"]);
  assert.equal(codes(build("input 4\nexperiment e {\n vary batch 32 64\n lr_scale none\n}").diagnostics), []);
});
train.run();

const errors = suite("builder: diagnostics");

/** The single diagnostic of building `text`: its code, message, help and the text its span covers. */
function only(text: string) {
  const { diagnostics } = build(text);
  assert.is(diagnostics.length, 1, diagnostics.map((d) => d.message).join("\n"));
  const d = diagnostics[0]!;
  return { code: d.code, message: d.message, help: d.help, at: spanText(text, d) };
}

errors("unknown op, with did you mean", () => {
  assert.equal(only("input 4\ndence 12"), {
    code: "E200",
    message: "unknown layer op 'dence'",
    help: "did you mean 'dense'?",
    at: "dence",
  });
  assert.is(only("input 4\ntrain {\n epoch 3\n}").help, "did you mean 'epochs'?");
});

errors("wrong argument types name the real value", () => {
  assert.equal(only("input 4\ndense 12.5"), {
    code: "E202",
    message: "'dense' expects an integer for UNITS, got '12.5'",
    help: undefined,
    at: "12.5",
  });
  const act = only("input 4\ndense 12 reluu");
  assert.is(act.help, "did you mean 'relu'?");
  assert.is(act.at, "reluu");
  assert.is(
    only("input 4\nbatchnorm center=yes").message,
    "'batchnorm' expects true or false for center, got 'yes'",
  );
  assert.is(only("input 4\nconv2d 8 3x3x3").code, "E202");
});

errors("unknown and duplicate options", () => {
  assert.equal(only("input 4\nbatchnorm momentun=0.9"), {
    code: "E201",
    message: "unknown option 'momentun' for 'batchnorm'",
    help: "did you mean 'momentum'?",
    at: "momentun=0.9",
  });
  assert.equal(only("input 4\ndense 3 bias=false bias=true").code, "E205");
  assert.is(only("input 4\ntrain {\n adam momentum=0.9\n}").message, "unknown option 'momentum' for 'adam'");
});

errors("missing and extra arguments give the usage", () => {
  const missing = only("input 4\ndense");
  assert.is(missing.code, "E203");
  assert.match(missing.message, "usage: dense UNITS [ACTIVATION] [bias=true|false]");
  const extra = only("input 4\ndense 3 relu 7");
  assert.is(extra.code, "E204");
  assert.is(extra.at, "7");
  assert.is(only("input 4\ntrain {\n optimizer\n}").code, "E203");
});

errors("out-of-range values", () => {
  assert.equal(only("input 4\ndropout 1"), {
    code: "E206",
    message: "'dropout' RATE must be in [0, 1), got 1",
    help: undefined,
    at: "1",
  });
  assert.is(only("input 4\ndense 0").message, "'dense' UNITS must be an integer >= 1, got 0");
  assert.is(only("input 0x28").code, "E206");
  assert.is(only("input 4\ntrain {\n seed -1\n}").code, "E206");
});

errors("statements in the wrong block", () => {
  const inTrain = only("input 4\ntrain {\n dense 3\n}");
  assert.is(inTrain.code, "E210");
  assert.is(
    inTrain.message,
    "'dense' cannot appear in a train block: it belongs in a model (or the file's top level)",
  );
  assert.is(only("model m {\n input 4\n optimizer adam\n}").code, "E210");
  assert.is(only("input 4\nepochs 3").code, "E210");
  assert.is(only("input 4\ntrain {\n compare a\n}").code, "E210");
});

errors("blocks: unknown, unnamed, named train, duplicates, bare layers beside models", () => {
  assert.equal(only("input 4\nmodl m {\n input 4\n}").help, "did you mean 'model'?");
  assert.is(only("model {\n input 4\n}\nmodel a {\n input 4\n}").code, "E211");
  assert.is(only("input 4\ntrain t {\n}").code, "E215");
  assert.is(only("model a {\n input 4\n}\nmodel a {\n input 4\n}").code, "E208");
  assert.is(only("input 4\ntrain {\n}\ntrain {\n}").code, "E209");
  assert.is(only("input 4\nexperiment x {\n}\nexperiment x {\n}").code, "E217");
  assert.is(only("dense 3\nmodel a {\n input 4\n}").code, "E212");
  assert.is(only("input 4\ntrain {\n epochs 3\n epochs 4\n}").code, "E214");
  assert.is(
    only("input 4\ntrain {\n adam\n optimizer sgd\n}").message,
    "'optimizer' is set twice in this block",
  );
});

errors("names: duplicates, empty file, no model, invalid numbers", () => {
  // Duplicate layer names (E213) are the checker's: test/check/shapes.test.ts.
  assert.equal(build("input 4\ndense 3 name=x\ndense 3 name=x").diagnostics, []);
  assert.equal(only("# only a comment\n"), {
    code: "E003",
    message: "the file holds no statements: a spec needs at least an `input` layer",
    help: undefined,
    at: "",
  });
  assert.is(only("train {\n epochs 3\n}").code, "E216");
  assert.is(only("input 4\ndense 12abc").code, "E101");
});

errors("every problem of a file in one run", () => {
  const { diagnostics, program } = build(
    "input 4\ndence 3\ndense 2.5\nbatchnorm momentum=2\ntrain {\n epochs 0\n optimiser adam\n}",
  );
  assert.equal(codes(diagnostics), ["E200", "E202", "E206", "E206", "E200"]);
  assert.ok(program, "the rest of the program is still built");
  assert.equal(validateIR(program).diagnostics, []);
});
errors.run();

const edge = suite("builder: edge cases");

edge("numbers JSON cannot hold are invalid numbers", () => {
  const { diagnostics } = build("input 4\ndense 3\ntrain {\n adam lr=1e400\n}");
  assert.equal(codes(diagnostics), ["E101"]);
});

edge("an unknown optimizer reports its name only, not its options", () => {
  const { diagnostics } = build("input 4\ntrain {\n optimizer adamx lr=0.1\n}");
  assert.equal(codes(diagnostics), ["E202"]);
  assert.is(diagnostics[0]!.help, "did you mean 'adam'?");
});
edge.run();
