// The data cases of issue 13 as a user meets them, through the CLI: `nnc check` says what `train` and
// `experiment` would refuse, `nnc data` and the run header say how a CSV was read (label column, scale), and
// a CSV of real-valued features trains on its values, not on them divided by 255. Files are made per test.
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { tempDir } from "../helpers.ts";

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const dir = tempDir("cli-data");
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** `count` rows of two Gaussian blobs 0.02 apart (std 0.003): `x1,x2,y`, labels 0..classes-1. */
function gaussianCsv(name: string, count: number, classes = 2, header = "x1,x2,y"): string {
  let seed = 11;
  const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 0.5) / 2 ** 31;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const rows = [header];
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    const angle = (2 * Math.PI * c) / classes;
    rows.push(
      `${(0.02 * Math.cos(angle) + 0.003 * normal()).toFixed(5)},` +
        `${(0.02 * Math.sin(angle) + 0.003 * normal()).toFixed(5)},${c}`,
    );
  }
  return write(name, rows.join("\n") + "\n");
}

const Check = suite("nnc check against the data");

Check(
  "output units fewer than a CSV's classes: E320 at the output layer and the data line, exit 1",
  async () => {
    gaussianCsv("ten.csv", 200, 10);
    const spec = write("ten.nn", "input 2\ndense 16 relu\ndense 5 softmax\ntrain {\n  data csv:ten.csv\n}\n");
    const r = await nnc("check", spec);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, `${spec}:3:1: error[E320]: model 'ten' has 5 output units`);
    assert.match(r.stderr, "data 'csv:ten.csv' has 10 classes (labels 0..9)");
    assert.match(r.stderr, `data 'csv:ten.csv', which has 10 classes, is set at ${spec}:5:3`);
    // The same spec with enough units is clean.
    write("ten-ok.nn", "input 2\ndense 16 relu\ndense 10 softmax\ntrain {\n  data csv:ten.csv\n}\n");
    const ok = await nnc("check", join(dir, "ten-ok.nn"));
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, "ten-ok.nn: ok");
  },
);

Check(
  "mnist: dense 1 sigmoid (E320), input 32x32x3 (E321) and batch 1 with batchnorm (E322) in one run",
  async () => {
    const spec = write(
      "mnist-wrong.nn",
      "input 32x32x3\nflatten\ndense 64 bias=false\nbatchnorm\nrelu\ndense 1 sigmoid\ntrain {\n  data mnist\n  batch 1\n}\n",
    );
    const r = await nnc("check", "--format", "json", spec);
    assert.is(r.code, 1);
    const report = JSON.parse(r.stdout) as { files: { diagnostics: { code: string; line: number }[] }[] };
    const found = report.files[0]!.diagnostics.map((d) => `${d.code}@${d.line}`);
    assert.equal(found, ["E321@1", "E322@4", "E320@6"]);
  },
);

Check(
  "every experiment cell's batch is checked up front; nnc experiment refuses before any cell trains",
  async () => {
    const spec = write(
      "sizes.nn",
      "model plain { input 28x28; flatten; dense 16 relu; dense 10 softmax }\n" +
        "model bn { input 28x28; flatten; dense 16 bias=false; batchnorm; relu; dense 10 softmax }\n" +
        "train {\n  data mnist\n  epochs 1\n}\n" +
        "experiment sizes {\n  compare plain bn\n  vary batch 64 1\n  lr_scale none\n}\n",
    );
    const r = await nnc("check", spec);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, "error[E322]: batchnorm 'batch_normalization' of model 'bn'");
    assert.match(r.stderr, "in experiment 'sizes'");
    assert.match(r.stderr, `batch 1 is listed at ${spec}:9:3`);
    const out = join(dir, "sizes-run");
    const e = await nnc("experiment", spec, "--out", out, "--jobs", "1", "--limit", "200");
    assert.is(e.code, 1, e.stderr);
    assert.match(e.stderr, `${spec}:2:55: error[E322]`);
    // Nothing trained: no cell finished, no cell folder written.
    const written = existsSync(out) ? readdirSync(out) : [];
    assert.not.ok(
      written.some((f) => f.startsWith("cells") || f === "results.json"),
      written.join(", "),
    );
  },
);

Check(
  "data that is not here is one warning, however many settings name it; --strict keeps it a warning",
  async () => {
    const spec = write(
      "absent.nn",
      "model a { input 4; dense 2 softmax }\ntrain { data idx:./no-such-folder }\n" +
        "experiment e { compare a; vary seed 1 2 }\n",
    );
    const r = await nnc("check", "--strict", spec);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stderr.match(/warning\[W530\]/g)?.length, 1, r.stderr);
  },
);

Check("loss auto's non-obvious pick is W409; --strict makes it an error", async () => {
  const spec = write("tanh.nn", "input 28x28\nflatten\ndense 10 tanh\ntrain {\n  data mnist\n}\n");
  const r = await nnc("check", spec);
  assert.is(r.code, 0);
  assert.match(r.stderr, "warning[W409]: loss auto picks mse for model 'tanh'");
  assert.is((await nnc("check", "--strict", spec)).code, 1);
});

Check.run();

const Data = suite("nnc data: how a CSV is read");

Data("a CSV of real-valued features: scale 1, the label column 'y', and why", async () => {
  const csv = gaussianCsv("blobs.csv", 100);
  const r = await nnc("data", `csv:${csv}`);
  assert.is(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    "  labels   column 'y' (index 2 of 3 columns): its name is one nnc takes for labels",
  );
  assert.match(
    r.stdout,
    "  scale    values used as they are: not every feature value is an integer in 0..255",
  );
  assert.not.match(r.stdout, "divided by 255");
  const json = JSON.parse((await nnc("data", `csv:${csv}`, "--json")).stdout) as { choices: string[] };
  assert.equal(json.choices.length, 2);
});

Data(
  "--label chooses the column, by name or index (negative from the end); a wrong name is E518",
  async () => {
    const bare = write("bare.csv", "0.5,0.25,1\n0.125,0.75,0\n0.5,0.5,1\n0.25,0.25,0\n0.75,0.5,1\n");
    const r = await nnc("data", `csv:${bare}`, "--label", "-1", "--validation", "0.4");
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, "labels   column 3 (index 2 of 3 columns): label=-1");
    // Without it, the first column (0.5) is no class index: E512 says which column was taken and how to choose.
    const guess = await nnc("data", `csv:${bare}`);
    assert.is(guess.code, 1);
    assert.match(guess.stderr, "error[E512]");
    assert.match(guess.stderr, "label=-1 is the last column");
    const wrong = await nnc("data", `csv:${gaussianCsv("named.csv", 20)}`, "--label", "taget");
    assert.is(wrong.code, 1);
    assert.match(wrong.stderr, "error[E518]");
  },
);

Data("a 2-row CSV: E519 says the hold-out is the default and how to change it", async () => {
  const two = write("two.csv", "label,a\n0,1.5\n1,2.5\n");
  const r = await nnc("data", `csv:${two}`);
  assert.is(r.code, 1);
  assert.match(r.stderr, "error[E519]");
  assert.match(r.stderr, "by default (validation=0.2, as none was given)");
  assert.match(r.stderr, "--validation 0.5");
  assert.not.match(r.stderr, "data option 'validation'");
  assert.is((await nnc("data", `csv:${two}`, "--validation", "0.5")).code, 0);
});

Data("a label of 99999999999 is E517 at its line, not an exhausted heap or a wrapped number", async () => {
  const big = write("big.csv", "label,a\n0,1\n99999999999,2\n1,3\n");
  const r = await nnc("data", `csv:${big}`);
  assert.is(r.code, 1);
  assert.match(r.stderr, `error[E517]: ${big}:3: label in column 1 is '99999999999'`);
  const spec = write("big.nn", "input 1\ndense 2 softmax\ntrain {\n  data csv:big.csv\n}\n");
  const c = await nnc("check", spec);
  assert.is(c.code, 1);
  assert.match(c.stderr, "error[E517]");
  assert.not.match(c.stderr, "1215752191");
});

Data.run();

const Train = suite("nnc train on a CSV of real-valued features");

Train("the run header says how the data was read, and the features train at their own scale", async () => {
  gaussianCsv("train-blobs.csv", 400);
  // A linear 2-unit output and no loss line: loss auto takes the labels as classes (cross-entropy from logits).
  const spec = write(
    "blobs.nn",
    "input 2\ndense 16 relu\ndense 2\ntrain {\n  data csv:train-blobs.csv validation=0.25\n  optimizer adam lr=0.01\n" +
      "  batch 32\n  epochs 15\n}\n",
  );
  const out = join(dir, "blobs-run");
  const r = await nnc("train", spec, "--out", out, "--backend", "cpu", "--threads", "1");
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, "data labels: column 'y' (index 2 of 3 columns)");
  assert.match(r.stderr, "data scale: values used as they are");
  const accuracy = Number(/validation accuracy ([\d.]+)%/.exec(r.stderr)?.[1]);
  // Divided by 255 the blobs are 8e-5 apart and this model stays near chance (50%).
  assert.ok(accuracy > 90, `validation accuracy ${accuracy}%:\n${r.stderr}`);
});

Train.run();
