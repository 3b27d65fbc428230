// The checker on weight decay and clipping (src/check/training.ts): one clipping rule at most (E330, as Keras'
// base optimizer refuses more), no weight decay that zeroes or flips the weights (E331), each at the optimizer
// statement; `vary weight_decay` typed (E307) and applied to each cell's optimizer.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { expandGrid } from "../../src/experiment/grid.ts";
import { checked, codes, diagnosticsOf, spanText } from "../build/helpers.ts";

const MLP = "input 4\ndense 8 relu\ndense 3 softmax\n";
const check = suite("checker: weight decay and clipping");

check("E330: more than one clipping rule, at the optimizer statement", () => {
  const text = MLP + "train {\n  optimizer sgd clipnorm=1 clipvalue=0.5\n}";
  const ds = diagnosticsOf(text);
  assert.equal(codes(ds), ["E330"]);
  assert.is(spanText(text, ds[0]!), "optimizer sgd clipnorm=1 clipvalue=0.5");
  assert.match(ds[0]!.message, "clipnorm=1 and clipvalue=0.5");
  assert.equal(codes(diagnosticsOf(MLP + "train {\n  adam global_clipnorm=1\n}")), []);
});

check("E331: weight_decay * lr at 1 or more, also from an experiment's override", () => {
  const text = MLP + "train {\n  sgd lr=0.5 weight_decay=2\n}";
  const ds = diagnosticsOf(text);
  assert.equal(codes(ds), ["E331"]);
  assert.is(spanText(text, ds[0]!), "sgd lr=0.5 weight_decay=2");
  assert.match(ds[0]!.message, "1 - weight_decay * lr = 0");
  assert.equal(codes(diagnosticsOf(MLP + "train {\n  sgd lr=0.5 weight_decay=1.9\n}")), []);
  const exp = MLP + "train {\n  sgd lr=0.5\n}\nexperiment e {\n  sgd lr=0.5 weight_decay=3\n}";
  assert.equal(codes(diagnosticsOf(exp)), ["E331"]);
});

check("vary weight_decay: numbers >= 0, laid on each cell's optimizer (varied optimizers too)", () => {
  assert.equal(codes(diagnosticsOf(MLP + "experiment e {\n  vary weight_decay 0 -1\n}")), ["E307"]);
  const p = checked(
    MLP +
      "train {\n  adam lr=0.01\n}\nexperiment e {\n  vary optimizer adam adamw\n  vary weight_decay 0 1e-4\n}",
  ).program;
  const cells = expandGrid(p, p.experiments[0]!);
  const got = cells.map((c) => [c.train.optimizer.type, c.train.optimizer.lr, c.train.optimizer.weightDecay]);
  assert.equal(got, [
    ["adam", 0.01, 0],
    ["adam", 0.01, 1e-4],
    ["adamw", 0.01, 0],
    ["adamw", 0.01, 1e-4],
  ]);
});

check("W411: weight decay and l2 on the same layer, at the layer's l2; none without decay", () => {
  const model = "input 4\ndense 8 relu l2=1e-4\ndense 3 softmax\n";
  const text = model + "train {\n  adamw\n}";
  const ds = diagnosticsOf(text);
  assert.equal(codes(ds), ["W411"]);
  assert.is(spanText(text, ds[0]!), "l2=1e-4");
  assert.match(ds[0]!.message, "'dense' has l2=0.0001");
  assert.equal(codes(diagnosticsOf(model + "train {\n  adam\n}")), []);
  assert.equal(codes(diagnosticsOf(model + "train {\n  adamw weight_decay=0\n}")), []);
  // An experiment that varies weight decay over such a layer.
  const exp = model + "experiment e {\n  vary weight_decay 0 1e-3\n}";
  assert.equal(codes(diagnosticsOf(exp)), ["W411"]);
});

check("l2 is a number >= 0 on dense and conv2d only", () => {
  assert.equal(codes(diagnosticsOf("input 4\ndense 3 l2=-1\n")), ["E206"]);
  assert.equal(codes(diagnosticsOf("input 4x4x1\nconv2d 2 3 l2=0.1\nflatten\ndense 2 softmax\n")), []);
  assert.equal(codes(diagnosticsOf("input 4\nbatchnorm l2=0.1\n")), ["E201"]);
});

check.run();
