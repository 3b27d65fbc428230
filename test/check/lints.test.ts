import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkProgram } from "../../src/check/check.ts";
import { lossTypeFor, outputActivation } from "../../src/ir/loss-rules.ts";
import { formatSummary, readableSize, summarizeModel } from "../../src/check/summary.ts";
import { build, checked, codes, diagnosticsOf, spanText } from "../build/helpers.ts";

const MLP = "input 28x28\nflatten\ndense 128 relu\ndense 64 relu\n";

const loss = suite("checker: loss resolution");

loss("auto follows the output activation", () => {
  const resolved = (text: string) => checked(text).program.train.loss;
  assert.equal(resolved(MLP + "dense 10 softmax"), {
    type: "sparse_categorical_crossentropy",
    fromLogits: false,
  });
  assert.equal(resolved(MLP + "dense 1 sigmoid"), { type: "binary_crossentropy", fromLogits: false });
  // Labels are class indices: a linear output is logits (one unit: binary, several: categorical).
  assert.equal(resolved(MLP + "dense 1"), { type: "binary_crossentropy", fromLogits: true });
  assert.equal(resolved(MLP + "dense 10"), { type: "sparse_categorical_crossentropy", fromLogits: true });
  assert.equal(resolved(MLP + "dense 10 tanh"), { type: "mse" });
  assert.equal(resolved(MLP + "dense 10\nsoftmax\ndropout 0.1"), {
    type: "sparse_categorical_crossentropy",
    fromLogits: false,
  });
});

loss("fromLogits is what the outputs are", () => {
  const l = checked(MLP + "dense 10\ntrain {\n loss crossentropy\n}").program.train.loss;
  assert.equal([l.type, l.fromLogits], ["sparse_categorical_crossentropy", true]);
  // A trailing batchnorm makes the output linear (W401 covers the bug itself).
  assert.is(outputActivation(checked(MLP + "dense 10 softmax\nbatchnorm").program.models[0]!), "linear");
});

loss("W402 both ways, at the loss statement", () => {
  const text = MLP + "dense 10 softmax\ntrain {\n loss sparse_categorical_crossentropy from_logits=true\n}";
  const [d] = diagnosticsOf(text);
  assert.is(d!.code, "W402");
  assert.is(
    d!.message,
    "loss declared from_logits=true, but model 'model' outputs softmax probabilities, not logits; nnc uses the correct setting",
  );
  assert.is(spanText(text, d!), "loss sparse_categorical_crossentropy from_logits=true");
  assert.equal(codes(diagnosticsOf(MLP + "dense 10\ntrain {\n loss crossentropy from_logits=false\n}")), [
    "W402",
  ]);
  assert.equal(codes(diagnosticsOf(MLP + "dense 10\ntrain {\n loss crossentropy from_logits=true\n}")), []);
  // The resolved loss is what training uses.
  assert.is(checked(text).program.train.loss.fromLogits, false);
});
loss("auto over models with different outputs stays auto in the IR; each model trains with its own", () => {
  const text =
    "model many { input 4; dense 3 softmax }\nmodel one { input 4; dense 1 sigmoid }\n" +
    "experiment e { compare many one }\n";
  const program = checked(text).program;
  assert.equal(program.train.loss, { type: "auto" });
  assert.equal(
    program.models.map((m) => lossTypeFor(m, program.train.loss)),
    ["sparse_categorical_crossentropy", "binary_crossentropy"],
  );
  // Models that agree still get the resolved loss.
  const agree = checked(
    "model a { input 4; dense 3 softmax }\nmodel b { input 4; dense 5 softmax }\n",
  ).program;
  assert.equal(agree.train.loss, { type: "sparse_categorical_crossentropy", fromLogits: false });
});

loss.run();

const lints = suite("checker: lints");

lints("W401: batchnorm after the output softmax (the notebook's bug)", () => {
  const text = MLP + "dense 10 softmax\nbatchnorm";
  const diags = diagnosticsOf(text);
  assert.equal(codes(diags), ["W401"]);
  assert.is(spanText(text, diags[0]!), "batchnorm");
  // Softmax after batchnorm is fine (only the dense bias before it is redundant: the W410 hint).
  assert.equal(codes(diagnosticsOf(MLP + "dense 10\nbatchnorm\nsoftmax")), ["W410"]);
});

lints("W403: two activations in a row, but not dense then its activation", () => {
  assert.equal(codes(diagnosticsOf("input 4\ndense 3 relu\nrelu")), ["W403"]);
  assert.equal(codes(diagnosticsOf("input 4\ndense 3\nrelu\ntanh")), ["W403"]);
  assert.equal(codes(diagnosticsOf("input 4\ndense 3\nrelu")), []);
  assert.equal(codes(diagnosticsOf("input 4\ndense 3 relu\nlinear")), []);
  assert.match(
    diagnosticsOf("input 4\ndense 3 relu\ntanh")[0]!.message,
    "activation 'tanh' directly follows activation 'relu'",
  );
});

lints("W404: dropout directly before batchnorm", () => {
  const text = "input 4\ndense 3\ndropout 0.5\nbatchnorm";
  const diags = diagnosticsOf(text);
  assert.equal(codes(diags), ["W404"]);
  assert.is(spanText(text, diags[0]!), "dropout 0.5");
});

lints("W427: spatial_dropout or gaussian_noise directly before batchnorm (dropout keeps W404)", () => {
  for (const [statement, says] of [
    ["spatial_dropout 0.2", "drops whole channels at rate 0.2"],
    ["gaussian_noise 0.1", "adds noise of standard deviation 0.1"],
  ]) {
    const text = `input 6x6x2\nconv2d 4 3x3\n${statement}\nbatchnorm\nflatten\ndense 2`;
    const diags = diagnosticsOf(text);
    assert.equal(codes(diags), ["W427"], statement);
    assert.is(spanText(text, diags[0]!), statement);
    assert.match(diags[0]!.message, says);
    assert.equal(codes(diagnosticsOf(text.replace("batchnorm\n", ""))), [], "no batchnorm after it");
  }
});

lints("W405: a PyTorch-style momentum, pointing at the option", () => {
  const text = "input 4\nbatchnorm momentum=0.1";
  const diags = diagnosticsOf(text);
  assert.equal(codes(diags), ["W405"]);
  assert.is(spanText(text, diags[0]!), "momentum=0.1");
  assert.match(diags[0]!.message, "PyTorch's momentum=0.1 is Keras momentum=0.9");
  assert.equal(codes(diagnosticsOf("input 4\nbatchnorm momentum=0.5")), []);
});

lints("W410 (a hint): a bias feeding batchnorm directly, and only there", () => {
  const hinted = diagnosticsOf("input 4\ndense 3\nbatchnorm");
  assert.equal(codes(hinted), ["W410"]);
  assert.is(hinted[0]!.severity, "hint");
  assert.is(spanText("input 4\ndense 3\nbatchnorm", hinted[0]!), "dense 3");
  assert.equal(codes(diagnosticsOf("input 4x4x1\nconv2d 2 3x3\nbatchnorm")), ["W410"]);
  // No bias, an activation in between, or a second consumer that sees the bias: nothing to say.
  assert.equal(codes(diagnosticsOf("input 4\ndense 3 bias=false\nbatchnorm")), []);
  assert.equal(codes(diagnosticsOf("input 4\ndense 3 relu\nbatchnorm")), []);
  assert.equal(codes(diagnosticsOf("input 4\ndense 3 name=d\nbatchnorm\nadd d")), []);
  // --strict promotes warnings, not hints: a hint never fails a build.
  const { diagnostics } = checkProgram(build("input 4\ndense 3\nbatchnorm").program!, { strict: true });
  assert.equal(
    diagnostics.map((d) => [d.code, d.severity]),
    [["W410", "hint"]],
  );
});

lints("strict mode promotes warnings to errors, codes unchanged", () => {
  const program = build(MLP + "dense 10 softmax\nbatchnorm").program!;
  const { diagnostics } = checkProgram(program, { strict: true });
  assert.equal(
    diagnostics.map((d) => [d.code, d.severity]),
    [["W401", "error"]],
  );
});
lints.run();

const experiments = suite("checker: experiments");

const TWO =
  "model base {\n input 4\n dense 2 softmax\n}\nmodel wide {\n input 4\n dense 8\n dense 2 softmax\n}\n";

experiments("compare names must exist", () => {
  const diags = diagnosticsOf(TWO + "experiment e {\n compare base wid\n}");
  assert.equal(codes(diags), ["E305"]);
  assert.is(diags[0]!.message, "no model named 'wid' in this file (models: base, wide)");
  assert.is(diags[0]!.help, "did you mean 'wide'?");
});

experiments("vary values are typed per key; a key varied twice", () => {
  const text =
    TWO +
    "experiment e {\n vary batch 32 0 12.5\n vary optimizer adam sgdd\n vary bnstats ema\n vary init he_normal x\n" +
    " vary lr 0.1 fast\n vary seed 1 -1\n vary init_scale 2\n vary epochs 3\n vary batch 64\n lr_scale linear\n}";
  const diags = diagnosticsOf(text);
  assert.equal(codes(diags), ["E307", "E307", "E307", "E307", "E307", "E307", "E308"]);
  assert.is(diags[0]!.message, "'vary batch' value '0' is not a positive integer (a batch size)");
  assert.is(diags[2]!.help, "did you mean 'sgd'?");
  assert.is(spanText(text, diags[6]!), "vary batch 64");
});

experiments("experiment loss overrides are resolved too", () => {
  const p = checked(TWO + "experiment e {\n loss auto\n}").program;
  assert.equal(p.experiments[0]!.train!.loss!.type, "sparse_categorical_crossentropy");
});
experiments.run();

const summary = suite("checker: summary");

summary("Keras-like table with sizes as Keras prints them", () => {
  const model = checked(MLP + "dense 10 softmax\nbatchnorm").program.models[0]!;
  const text = formatSummary(summarizeModel(model), "notebook");
  assert.match(text, 'Model: "notebook"');
  assert.match(text, " dense_1 (Dense)");
  assert.match(text, "(None, 64)");
  assert.match(text, "Total params: 109426 (427.45 KB)");
  assert.match(text, "Trainable params: 109406 (427.37 KB)");
  assert.match(text, "Non-trainable params: 20 (80.00 Byte)");
  // The notebook's figure for its baseline: "Total params: 109386 (427.29 KB)", "0 (0.00 Byte)".
  assert.equal(
    [readableSize(109386), readableSize(0), readableSize(300_000)],
    ["427.29 KB", "0.00 Byte", "1.14 MB"],
  );
});
summary.run();

const lossShape = suite("checker: loss fits the output");

lossShape("E306: any loss over image-shaped outputs (labels are class indices)", () => {
  const diags = diagnosticsOf("input 8x8x1\nconv2d 4 3 softmax\ntrain {\n loss crossentropy\n}");
  assert.equal(codes(diags), ["E306"]);
  assert.is(
    diags[0]!.message,
    "loss 'sparse_categorical_crossentropy' needs outputs of shape [batch, units] (labels are class indices), " +
      "but model 'model' outputs [?, 6, 6, 4]: add flatten (or globalavgpool) and a dense layer at the end of the model",
  );
  assert.equal(codes(diagnosticsOf("input 8x8x1\nconv2d 4 3\ntrain {\n loss mse\n}")), ["E306"]);
  // loss auto picks mse for a linear conv output: still no way to compare it with a class index.
  const auto = diagnosticsOf("input 28x28x1\nconv2d 10 3\ntrain {\n epochs 1\n}");
  assert.equal(codes(auto), ["E306"]);
  assert.match(auto[0]!.message, "loss 'mse' (picked by loss auto)");
  assert.match(auto[0]!.message, "add flatten (or globalavgpool) and a dense layer");
});

lossShape("E306: a declared loss that does not fit the output units or activation", () => {
  const loss = (model: string, type: string) => codes(diagnosticsOf(`${model}\ntrain {\n loss ${type}\n}`));
  // Categorical: softmax or linear, 2 or more units.
  assert.equal(loss("input 4\ndense 3 softmax", "binary_crossentropy"), ["E306"]);
  assert.equal(loss("input 4\ndense 1 sigmoid", "sparse_categorical_crossentropy"), ["E306"]);
  assert.equal(loss("input 4\ndense 1", "categorical_crossentropy"), ["E306"]);
  assert.equal(loss("input 4\ndense 1 softmax", "sparse_categorical_crossentropy"), ["E306"]);
  assert.equal(loss("input 4\ndense 3 relu", "sparse_categorical_crossentropy"), ["E306"]);
  assert.equal(loss("input 4\ndense 3 softmax", "sparse_categorical_crossentropy"), []);
  assert.equal(loss("input 4\ndense 3", "categorical_crossentropy"), []);
  // Binary: one unit, sigmoid or linear.
  assert.equal(loss("input 4\ndense 2 sigmoid", "binary_crossentropy"), ["E306"]);
  assert.equal(loss("input 4\ndense 1 tanh", "binary_crossentropy"), ["E306"]);
  assert.equal(loss("input 4\ndense 1 sigmoid", "binary_crossentropy"), []);
  assert.equal(loss("input 4\ndense 1", "binary_crossentropy"), []);
  assert.equal(loss("input 4\ndense 3 tanh", "mse"), []);
  const [d] = diagnosticsOf("input 4\ndense 1\ntrain {\n loss sparse_categorical_crossentropy\n}");
  assert.match(d!.message, "needs 2 or more output units (one per class), but model 'model' has 1");
});

lossShape("loss auto never picks a loss that does not fit", () => {
  assert.equal(codes(diagnosticsOf("input 4\ndense 3 sigmoid")), []);
  assert.equal(codes(diagnosticsOf("input 4\ndense 1 softmax\ntrain {\n batch 8\n}")), ["E306"]);
});

lossShape(
  "a file that does not train (no train block, no experiment) needs no loss: a feature extractor checks",
  () => {
    const program = checked("input 5x5x3\nbatchnorm").program;
    assert.equal(program.models[0]!.layers.at(-1)!.outputShape, [null, 5, 5, 3]);
    assert.is(program.train.loss.type, "auto");
    assert.equal(codes(diagnosticsOf("input 5x5x3\nbatchnorm\ntrain {\n epochs 1\n}")), ["E306"]);
    assert.equal(
      codes(
        diagnosticsOf(
          "model a { input 4; dense 1 softmax }\nexperiment e { vary batch 8 16; lr_scale none }",
        ),
      ),
      ["E306"],
    );
  },
);
lossShape.run();
