// Checking against the data (src/check/data-fit.ts): what `nnc train` and `nnc experiment` would refuse is
// found from the data's metadata alone, at the offending layer and the data setting; and loss auto's picks
// that are not the obvious ones are warned about (W409).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkData, checkDataFit } from "../../src/check/data-fit.ts";
import { compile } from "../../src/compile.ts";
import type { DataMetadata } from "../../src/data/metadata.ts";
import type { Diagnostic } from "../../src/diagnostics/index.ts";
import type { Program } from "../../src/ir/schema.ts";
import { codes, diagnosticsOf, spanText } from "../build/helpers.ts";
import { tempDir } from "../helpers.ts";

function programOf(text: string): Program {
  const r = compile(text);
  if (!r.program) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.program;
}

const meta = (over: Partial<DataMetadata> = {}): DataMetadata => ({
  source: "mnist",
  sampleShape: [28, 28],
  numClasses: 10,
  labelKind: "class-index",
  trainCount: 8000,
  testCount: 2000,
  ...over,
});

const fit = (text: string, m: DataMetadata = meta()): Diagnostic[] => checkDataFit(programOf(text), () => m);
/** Where a diagnostic's related places point, as source text. */
const relatedText = (text: string, d: Diagnostic): string[] =>
  (d.related ?? []).map((r) => text.slice(r.span[0], r.span[1]));

const Fit = suite("check against the data: models and settings");

Fit("fewer output units than classes: E320 at the output layer and the data setting", () => {
  const text = "input 28x28\nflatten\ndense 5 softmax\ntrain { data mnist }\n";
  const [d, ...rest] = fit(text);
  assert.equal(rest, []);
  assert.is(d!.code, "E320");
  assert.is(
    d!.message,
    "model 'model' has 5 output units (one per class: 5 classes), but data 'mnist' has 10 classes (labels 0..9)",
  );
  assert.is(spanText(text, d!), "dense 5 softmax");
  assert.equal(relatedText(text, d!), ["data mnist"]);
  assert.match(d!.related![0]!.message, "data 'mnist', which has 10 classes, is set");
  assert.match(d!.help ?? "", "'dense 10 softmax'");
  // A single sigmoid unit tells two classes apart.
  const [s] = fit("input 28x28\nflatten\ndense 1 sigmoid\ntrain { data mnist }\n");
  assert.is(s!.code, "E320");
  assert.match(s!.message, "1 output unit (one unit tells 2 classes apart)");
  assert.equal(
    fit("input 4\ndense 1 sigmoid\ntrain { epochs 1 }\n", meta({ sampleShape: [4], numClasses: 2 })),
    [],
  );
  assert.equal(fit("input 28x28\nflatten\ndense 10 softmax\ntrain { epochs 1 }\n"), []);
});

Fit("an input the samples cannot feed: E321 at the input, with the shapes that would", () => {
  const text = "input 32x32x3\nconv2d 4 3x3\nflatten\ndense 10 softmax\ntrain {\n  data mnist\n}\n";
  const [d, ...rest] = fit(text);
  assert.equal(rest, []);
  assert.is(d!.code, "E321");
  assert.is(
    d!.message,
    "model 'model' takes input [32, 32, 3], but data 'mnist' has samples of shape [28, 28]",
  );
  assert.is(spanText(text, d!), "input 32x32x3");
  assert.equal(relatedText(text, d!), ["data mnist"]);
  assert.match(d!.help ?? "", "[28, 28], [28, 28, 1], [784]");
  for (const input of ["28x28", "28x28x1", "784"]) {
    assert.equal(fit(`input ${input}\nflatten\ndense 10 softmax\ntrain { epochs 1 }\n`), [], input);
  }
});

Fit("batch 1 with a dense batchnorm: E322 at the batchnorm; a conv batchnorm has values enough", () => {
  const text = "input 784\ndense 32\nbatchnorm\nrelu\ndense 10 softmax\ntrain {\n  batch 1\n}\n";
  const [d, ...rest] = fit(text);
  assert.equal(rest, []);
  assert.is(d!.code, "E322");
  assert.match(
    d!.message,
    "batchnorm 'batch_normalization' of model 'model' would normalize one value per channel at batch 1 (8,000 training samples)",
  );
  assert.is(spanText(text, d!), "batchnorm");
  // A train block without a data setting trains on the default data: the note points at the block.
  assert.match(d!.related![0]!.message, "the default data 'mnist' (no data setting)");
  const conv = "input 28x28x1\nconv2d 4 3x3\nbatchnorm\nrelu\nflatten\ndense 10 softmax\ntrain { batch 1 }\n";
  assert.equal(fit(conv), []);
  // A one-sample training set is batch 1 whatever the batch setting.
  assert.equal(
    codes(
      fit(
        "input 4\ndense 8\nbatchnorm\ndense 2 softmax\ntrain { batch 32 }\n",
        meta({ sampleShape: [4], numClasses: 2, trainCount: 1 }),
      ),
    ),
    ["E322"],
  );
});

Fit(
  "every cell of every experiment up front: a varied batch of 1 is E322 naming the experiment and the list",
  () => {
    const text =
      "model plain { input 784; dense 10 softmax }\n" +
      "model bn { input 784; dense 16; batchnorm; relu; dense 10 softmax }\n" +
      "experiment sizes {\n  compare plain bn\n  vary batch 1 32\n  lr_scale none\n}\n";
    const found = fit(text);
    assert.equal(codes(found), ["E322"]);
    assert.match(found[0]!.message, "at batch 1 (8,000 training samples, in experiment 'sizes')");
    assert.equal(relatedText(text, found[0]!)[0], "vary batch 1 32");
    // Only the experiment asked for, as `nnc experiment` checks it.
    assert.equal(
      checkDataFit(programOf(text), () => meta(), { experiment: "other" }),
      [],
    );
  },
);

Fit("a last batch of one sample each epoch is W408 (nnc merges it); the hold-out counts", () => {
  const model = "input 784\ndense 16\nbatchnorm\nrelu\ndense 10 softmax\n";
  const [w, ...rest] = fit(model + "train { batch 7999 }\n");
  assert.equal(rest, []);
  assert.is(w!.code, "W408");
  assert.match(w!.message, "(8,000 training samples at batch 7999)");
  assert.match(w!.message, "one step per epoch runs at batch 8000");
  // validation=0.5 of 8000 leaves 4000: 4000 % 3999 = 1.
  assert.equal(codes(fit(model + "train {\n  data mnist validation=0.5\n  batch 3999\n}\n")), ["W408"]);
  assert.equal(fit(model + "train { batch 128 }\n"), []);
});

Fit(
  "linear logits of another number than the classes: W409 for loss auto, nothing for a declared loss",
  () => {
    const text = "input 784\ndense 12\ntrain { epochs 1 }\n";
    const [w, ...rest] = fit(text);
    assert.equal(rest, []);
    assert.is(w!.code, "W409");
    assert.match(
      w!.message,
      "loss auto picks sparse_categorical_crossentropy for model 'model': its 12 linear outputs are read as the logits of 12 classes",
    );
    assert.match(w!.message, "data 'mnist' has 10");
    assert.equal(fit("input 784\ndense 10\ntrain { epochs 1 }\n"), []);
    assert.equal(fit("input 784\ndense 12\ntrain { loss crossentropy }\n"), []);
  },
);

Fit("a file of models alone trains nothing: no data checks", () => {
  assert.equal(fit("input 32x32x3\nflatten\ndense 5 softmax\n"), []);
});

Fit.run();

const Read = suite("check against the data: reading metadata (checkData)");

const write = (dir: string, name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

Read(
  "a CSV's classes and rows come from its label column: too few units, a default hold-out of nothing",
  async () => {
    const dir = tempDir("fit-csv");
    const rows = Array.from({ length: 30 }, (_, i) => `${(i * 0.37) % 1},${(i * 0.11) % 1},${i % 3}`);
    write(dir, "three.csv", ["x1,x2,y", ...rows].join("\n"));
    write(dir, "two.csv", "x1,x2,y\n0.5,0.25,0\n0.25,0.5,1\n");
    const three = programOf("input 2\ndense 8 relu\ndense 1 sigmoid\ntrain { data csv:three.csv }\n");
    assert.equal(codes(await checkData(three, { baseDir: dir })), ["E320"]);
    const two = programOf("input 2\ndense 2 softmax\ntrain { data csv:two.csv }\n");
    const [d] = await checkData(two, { baseDir: dir });
    assert.is(d!.code, "E519");
    assert.match(d!.message, "by default (validation=0.2, as none was given)");
    assert.ok(d!.span, "located at the data setting");
  },
);

Read(
  "data missing here is a warning, said once however often it is named; a bad file is an error",
  async () => {
    const text =
      "model a { input 4; dense 2 softmax }\ntrain { data idx:./nowhere }\n" +
      "experiment e { compare a; vary seed 1 2 }\nexperiment f { compare a; vary seed 3 4 }\n";
    const found = await checkData(programOf(text), { baseDir: tempDir("fit-missing") });
    // A W code for a warning (the load's E502 is an error where data is used): its words kept.
    assert.equal(codes(found), ["W530"]);
    assert.is(found[0]!.severity, "warning");
    assert.match(found[0]!.message, /nowhere: no such folder; the checks against the data are skipped/);
    const dir = tempDir("fit-bad");
    write(dir, "bad.csv", "label,a\n0,1\n99999999999,2\n");
    const bad = await checkData(programOf("input 1\ndense 2 softmax\ntrain { data csv:bad.csv }\n"), {
      baseDir: dir,
    });
    assert.equal(codes(bad), ["E517"]);
    assert.is(bad[0]!.severity, "error");
  },
);

Read.run();

const Auto = suite("loss auto: from the labels as well as the output (W409)");

Auto("outputs that are neither probabilities nor logits get mse, with a warning at the output", () => {
  const text = "input 4\ndense 8 relu\ndense 3 tanh\ntrain { epochs 1 }\n";
  const [w, ...rest] = diagnosticsOf(text);
  assert.equal(rest, []);
  assert.is(w!.code, "W409");
  assert.match(
    w!.message,
    "loss auto picks mse for model 'model': its output is tanh, neither probabilities nor logits",
  );
  assert.match(w!.message, "'dense 3 softmax'");
  assert.is(spanText(text, w!), "dense 3 tanh");
  assert.equal(codes(diagnosticsOf("input 4\ndense 3 sigmoid\ntrain { epochs 1 }\n")), ["W409"]);
  // The obvious picks, a declared loss, and a file that trains nothing say nothing.
  for (const quiet of [
    "input 4\ndense 3 softmax\ntrain { epochs 1 }\n",
    "input 4\ndense 1 sigmoid\ntrain { epochs 1 }\n",
    "input 4\ndense 3\ntrain { epochs 1 }\n",
    "input 4\ndense 1\ntrain { epochs 1 }\n",
    "input 4\ndense 3 tanh\ntrain { loss mse }\n",
    "input 4\ndense 3 tanh\n",
  ]) {
    assert.equal(codes(diagnosticsOf(quiet)), [], quiet);
  }
});

Auto.run();
