// Tables written once: the front end's loss names are the IR's, Keras class names come from one table that the
// summary and the Layers-format export both read, and the schema's descriptions say what the checker enforces.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { TRAIN_SIGNATURES } from "../../src/build/signatures.ts";
import { summarizeModel } from "../../src/check/summary.ts";
import { compile } from "../../src/compile.ts";
import { DataSchema, KERAS_NAMES, LOSSES } from "../../src/ir/index.ts";
import { schema as DenseLayer } from "../../src/ops/dense.ts";
import { OPS } from "../../src/ops/index.ts";
import { kerasLayer } from "../../src/save/keras.ts";

const one = suite("one source for names and descriptions");

one("the loss setting accepts exactly the IR's losses", () => {
  const loss = TRAIN_SIGNATURES.find((s) => s.name === "loss")!.positional[0]!.type;
  assert.is(loss.kind, "enum");
  assert.equal(loss.kind === "enum" ? [...loss.values] : [], [...LOSSES]);
});

one("summary and Keras export name every layer's class from KERAS_NAMES", () => {
  const program = compile(
    "input 8x8x1\nconv2d 2 3 name=c\nbatchnorm\nrelu\nadd c\nconcat c\nmaxpool 2\navgpool 1\nlayernorm\n" +
      "dropout 0.1\ndepthwise_conv2d 1\nseparable_conv2d 2 1\nconv2d_transpose 2 1\nglobalavgpool\nflatten\ndense 2 softmax",
  ).program!;
  const model = program.models[0]!;
  // Every op of the spec above (the convolutions included); ops added since are held to the table by the line below.
  assert.is(new Set(model.layers.map((l) => l.op)).size, 16);
  for (const op of OPS) assert.equal(KERAS_NAMES[op.op], op.keras, op.op);
  const summary = summarizeModel(model);
  model.layers.forEach((layer, i) => {
    assert.is(kerasLayer(layer).class_name, KERAS_NAMES[layer.op].className, layer.op);
    assert.is(summary.layers[i]!.type, KERAS_NAMES[layer.op].className, layer.op);
  });
});

one(
  "schema descriptions match the checker: dense takes [batch, features]; scale's default depends on the source",
  () => {
    assert.match(DenseLayer.description ?? "", "[batch, features]");
    assert.match(DenseLayer.description ?? "", "differs from Keras");
    assert.not.match(DenseLayer.description ?? "", "over the last axis");
    assert.match(DataSchema.properties.scale.description ?? "", "1 for mnist");
    const data = TRAIN_SIGNATURES.find((s) => s.name === "data")!;
    const scale = data.options.find((o) => o.name === "scale")!;
    assert.is(scale.default, undefined, "no single default: it depends on the source");
    assert.match(scale.doc, "255 for IDX");
  },
);
one.run();
