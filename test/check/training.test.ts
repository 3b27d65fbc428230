// The checker on weight decay and clipping (src/check/training.ts): one clipping rule at most (E330, as Keras'
// base optimizer refuses more), no weight decay that zeroes or flips the weights (E331), each at the optimizer
// statement; `vary weight_decay` typed (E307) and applied to each cell's optimizer.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkDataFit } from "../../src/check/data-fit.ts";
import { compile } from "../../src/compile.ts";
import type { DataMetadata } from "../../src/data/metadata.ts";
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

check("label_smoothing: cross-entropies only (E332), in [0, 1], varied per cell", () => {
  const ok = checked(MLP + "train {\n  loss crossentropy label_smoothing=0.1\n}").program.train.loss;
  assert.is(ok.labelSmoothing, 0.1);
  const text = "input 4\ndense 3 tanh\ntrain {\n  loss mse label_smoothing=0.1\n}";
  const ds = diagnosticsOf(text);
  assert.equal(codes(ds), ["E332"]);
  assert.is(spanText(text, ds[0]!), "loss mse label_smoothing=0.1");
  assert.equal(codes(diagnosticsOf(MLP + "train {\n  loss crossentropy label_smoothing=1.5\n}")), ["E206"]);
  assert.equal(codes(diagnosticsOf(MLP + "experiment e {\n  vary label_smoothing 0 2\n}")), ["E307"]);
  const mse =
    "input 4\ndense 3 tanh\ntrain {\n  loss mse\n}\nexperiment e {\n  vary label_smoothing 0 0.1\n}";
  assert.equal(codes(diagnosticsOf(mse)), ["E332"]);
  const p = checked(MLP + "experiment e {\n  vary label_smoothing 0 0.1\n}").program;
  const cells = expandGrid(p, p.experiments[0]!);
  assert.equal(
    cells.map((c) => c.train.loss.labelSmoothing),
    [0, 0.1],
  );
});

check("class_weight: balanced or CLASS=WEIGHT pairs (E232), weights >= 0, keys class indices", () => {
  const of = (line: string) => checked(MLP + `train {\n  ${line}\n}`).program.train.classWeight;
  assert.equal(of("class_weight balanced"), { mode: "balanced", span: [47, 68] });
  const { span: _s, ...given } = of("class_weight 0=1.0 2=2.5") as { span: unknown };
  assert.equal(given, { mode: "given", weights: { "0": 1, "2": 2.5 } });
  assert.equal(codes(diagnosticsOf(MLP + "train {\n  class_weight balanced 1=2\n}")), ["E232"]);
  assert.equal(codes(diagnosticsOf(MLP + "train {\n  class_weight\n}")), ["E232"]);
  assert.equal(codes(diagnosticsOf(MLP + "train {\n  class_weight 0=-1\n}")), ["E206"]);
  assert.equal(codes(diagnosticsOf(MLP + "train {\n  class_weight x=1\n}")), ["E201"]);
  // Numbers key options only where a statement takes them, and only written against their '='.
  assert.equal(codes(diagnosticsOf(MLP + "train {\n  batch 32 0=1\n}")), ["E201"]);
  assert.equal(codes(compile("input 4\ndense 10 = 5\n").diagnostics), ["E100"]);
});

check("E333: class weights for classes the data does not have, at the class_weight line", () => {
  const text =
    "input 28x28\nflatten\ndense 10 softmax\ntrain {\n  data mnist\n  class_weight 3=2 10=1.5 12=1\n}\n";
  const meta = {
    source: "mnist",
    sampleShape: [28, 28],
    numClasses: 10,
    labelKind: "class-index",
    trainCount: 8000,
    testCount: 2000,
  } as DataMetadata;
  const ds = checkDataFit(checked(text).program, () => meta);
  assert.equal(codes(ds), ["E333"]);
  assert.is(spanText(text, ds[0]!), "class_weight 3=2 10=1.5 12=1");
  assert.match(ds[0]!.message, "class 10, 12, but data 'mnist' has 10 classes (0 to 9)");
  const fine = text.replace(" 10=1.5 12=1", "");
  assert.equal(codes(checkDataFit(checked(fine).program, () => meta)), []);
});

check.run();
