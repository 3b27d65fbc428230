// nnc train / eval / predict as a user runs them, on small slices of the embedded digits (fast).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { claimOutDir } from "../../src/cli/commands/train.ts";
import { NncError, type Diagnostic } from "../../src/diagnostics/index.ts";
import { tempDir } from "../helpers.ts";

/** The diagnostic of the NncError `action` throws; undefined when it succeeds. */
function diagnosticOf(action: () => unknown): Diagnostic | undefined {
  try {
    action();
  } catch (e) {
    if (e instanceof NncError) return e.diagnostic;
    throw e;
  }
  return undefined;
}

/** A path in this repository, whatever the working directory the tests run from. */
const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const tmp = mkdtempSync(join(tmpdir(), "nnc-train-"));
const out = join(tmp, "bn");
const settings = ["--limit", "600", "--batch", "64", "--backend", "cpu"];
const quick = [...settings, "--epochs", "2"];
/** `nnc train specs/mnist-bn.nn ...args`: the spec every test here trains. */
const trainBn = (...args: string[]) => nnc("train", repo("specs/mnist-bn.nn"), ...args);

const train = suite("nnc train");

train("trains, reports the backend and every epoch, and writes the run folder", async () => {
  const r = await trainBn(...quick, "--out", out);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /backend: cpu/);
  assert.match(r.stderr, /epoch 1\/2 .*val_acc/);
  assert.match(r.stderr, /epoch 2\/2 .*samples\/s/);
  assert.match(r.stderr, /test accuracy \d+\.\d+%/);
  for (const f of ["model.json", "weights.bin", "ir.json", "history.json", "manifest.json"]) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
  assert.is(history.epochs.length, 2);
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  assert.is(manifest.backend.name, "cpu");
  assert.match(JSON.stringify(manifest), /[0-9a-f]{64}/);
});

train("an existing run is never overwritten silently", async () => {
  const r = await trainBn(...quick, "--out", out);
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E606\].*--resume.*--force/);
});

train("--resume continues to more epochs; changed settings are refused", async () => {
  const more = await trainBn(...settings, "--epochs", "3", "--out", out, "--resume");
  assert.is(more.code, 0, more.stderr);
  assert.match(more.stderr, /resuming .* after epoch 2 of 3/);
  assert.not.match(more.stderr, /epoch 1\/3/);
  assert.match(more.stderr, /epoch 3\/3/);
  const changed = await trainBn(...quick, "--lr", "0.1", "--out", out, "--resume");
  assert.is(changed.code, 1);
  assert.match(changed.stderr, /error\[E602\]/);
});

train("a data source that does not exist stops before any work", async () => {
  const r = await trainBn("--data", "mnits", "--out", join(tmp, "never"));
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E500\].*mnits/s);
  assert.match(r.stderr, /did you mean 'mnist'/);
  assert.not.ok(existsSync(join(tmp, "never")));
});

train("a spec with errors does not train", async () => {
  const file = join(tmp, "bad.nn");
  writeFileSync(file, "input 28x28\ndense 10 softmax\n");
  const r = await nnc("train", file, "--out", join(tmp, "bad"));
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E302\]/);
});

train("--out naming a file fails at once (E607), before loading data or training", async () => {
  const file = join(tmp, "a-file");
  writeFileSync(file, "not a folder");
  const started = Date.now();
  const r = await trainBn(...quick, "--out", file);
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E607\]: .*a-file is a file, not a folder/);
  assert.not.match(r.stderr, /epoch 1/);
  assert.ok(Date.now() - started < 5000);
  assert.is(readFileSync(file, "utf8"), "not a folder");
});

train("--resume with fewer --epochs than the run has is E602, not 'after epoch 3 of 1'", async () => {
  const r = await trainBn(...settings, "--epochs", "1", "--out", out, "--resume");
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    /error\[E602\].*already has 3 epochs and --epochs asks for 1; ask for more with --epochs/,
  );
  assert.not.match(r.stderr, /resuming/);
});

train("one epoch is '1 epoch' in the banner", async () => {
  const r = await trainBn(...settings, "--epochs", "1", "--out", join(tmp, "one"));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /batch 64, 1 epoch, seed/);
});

train("run folders are claimed with an exclusive mkdir and locked: concurrent runs never share one", () => {
  const runs = join(tmp, "runs");
  const claims = [1, 2, 3].map(() => claimOutDir("specs/x.nn", "x", false, {}, runs));
  assert.equal(
    claims.map((c) => [c.dir, c.fresh]),
    [
      [join(runs, "x"), true],
      [join(runs, "x-2"), true],
      [join(runs, "x-3"), true],
    ],
  );
  // --force takes the base folder as it is, once its run (here the first claim) has let it go.
  const d = diagnosticOf(() => claimOutDir("specs/x.nn", "x", false, { force: true }, runs));
  assert.is(d?.code, "E640");
  claims.forEach((c) => c.release());
  const forced = claimOutDir("specs/x.nn", "x", false, { force: true }, runs);
  assert.equal([forced.dir, forced.fresh], [join(runs, "x"), false]);
  forced.release();
});

train("several models need --model", async () => {
  const r = await nnc("train", repo("specs/notebook-study.nn"), "--epochs", "1");
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E605\].*baseline, bn/);
});

const saved = suite("nnc eval / predict");

saved("eval --json reports accuracy, loss and samples of the saved model", async () => {
  const r = await nnc("eval", out, "--json", "--backend", "cpu");
  assert.is(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.is(result.samples, 2000);
  assert.ok(result.accuracy > 0.5 && result.accuracy <= 1, String(result.accuracy));
  assert.ok(result.loss > 0);
  // The last epoch's validation figures are the same evaluation.
  const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
  assert.ok(Math.abs(history.epochs.at(-1).valAccuracy - result.accuracy) < 1e-9);
});

saved("predict prints classes for held-out samples and for a JSON file", async () => {
  const r = await nnc("predict", out, "--limit", "3", "--json", "--backend", "cpu");
  assert.is(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  assert.is(rows.length, 3);
  for (const row of rows) {
    assert.ok(row.predicted >= 0 && row.predicted < 10);
    assert.ok(Math.abs(row.probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-4);
  }
  // Past one inference batch (1000 for this MLP: evalBatchOf): every sample, in order, the same figures.
  const many = await nnc("predict", out, "--limit", "1001", "--json", "--backend", "cpu");
  assert.is(many.code, 0, many.stderr);
  const manyRows = JSON.parse(many.stdout);
  assert.is(manyRows.length, 1001);
  assert.equal(
    manyRows.slice(0, 3).map((row: { probabilities: number[] }) => row.probabilities),
    rows.map((row: { probabilities: number[] }) => row.probabilities),
  );
  assert.is(manyRows[1000].index, 1000);
  const file = join(tmp, "samples.json");
  writeFileSync(file, JSON.stringify([Array.from({ length: 28 }, () => new Array(28).fill(0))]));
  const fromFile = await nnc("predict", out, "--input", file, "--backend", "cpu");
  assert.is(fromFile.code, 0, fromFile.stderr);
  assert.match(fromFile.stdout, /#0 {2}predicted \d/);
  writeFileSync(file, "[[1, 2, 3]]");
  const wrong = await nnc("predict", out, "--input", file, "--backend", "cpu");
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /error\[E516\].*sample 0 must hold 784 finite numbers/);
  writeFileSync(file, "[[1, 2,");
  const notJson = await nnc("predict", out, "--input", file, "--backend", "cpu");
  assert.match(notJson.stderr, /error\[E516\].*not JSON/);
  // A file that cannot be read is E001, as for specs (it was E004, "invalid IR JSON").
  const missing = await nnc("predict", out, "--input", join(tmp, "no-such.json"), "--backend", "cpu");
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /error\[E001\]: cannot read .*no-such\.json: no such file/);
});

saved("a logits model: the run header, and predict shows probabilities (softmax of the logits)", async () => {
  const spec = join(tmp, "logits.nn");
  const sgd = "optimizer sgd lr=0.05 momentum=0.9 nesterov=true";
  writeFileSync(spec, `input 28x28\nflatten\ndense 16 relu\ndense 10\ntrain {\n  data mnist\n  ${sgd}\n}\n`);
  const dir = join(tmp, "logits");
  const trained = await nnc(
    "train",
    spec,
    "--out",
    dir,
    "--limit",
    "300",
    "--epochs",
    "1",
    "--backend",
    "cpu",
  );
  assert.is(trained.code, 0, trained.stderr);
  // The header says what trains (every setting off its default) and nothing of batch norm, which it has not.
  assert.match(trained.stderr, `\n${sgd.slice("optimizer ".length)}, batch 32, 1 epoch, seed 0\n`);
  assert.not.match(trained.stderr, "batch-norm");
  const json = await nnc("predict", dir, "--limit", "3", "--json", "--backend", "cpu");
  assert.is(json.code, 0, json.stderr);
  for (const row of JSON.parse(json.stdout)) {
    const p = row.probabilities as number[];
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6, "a distribution");
    assert.ok(p.every((v) => v >= 0 && v <= 1));
    // The class is the top logit's, and the raw logits are kept beside.
    assert.is(row.predicted, row.logits.indexOf(Math.max(...row.logits)));
    assert.is(row.confidence, p[row.predicted]);
  }
  const text = await nnc("predict", dir, "--limit", "2", "--backend", "cpu");
  assert.match(text.stderr, "the model outputs logits; p= is their softmax");
  for (const m of text.stdout.matchAll(/p=(\S+)/g)) assert.ok(Number(m[1]) <= 1, m[1]);
});

saved("a folder that is not a saved model is a diagnostic", async () => {
  const r = await nnc("eval", tmp, "--backend", "cpu");
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E603\]/);
  const file = join(tmp, "samples.json");
  const onFile = await nnc("eval", file, "--backend", "cpu");
  assert.is(onFile.code, 1);
  assert.match(onFile.stderr, /error\[E603\].*is a file, not a model folder/);
});

train.run();
saved.run();

const lossHeader = suite("nnc train: the header states label smoothing and class weights");

lossHeader("given and balanced class weights, label smoothing; none of it when unset", async () => {
  const dir = tempDir("loss-header");
  const spec = (extra: string) =>
    `input 28x28\nflatten\ndense 10 softmax\ntrain {\n  data mnist limit=200\n  epochs 1\n${extra}}\n`;
  const header = async (extra: string) => {
    const file = join(dir, "m.nn");
    writeFileSync(file, spec(extra));
    const io = memoryIO();
    const code = await run(["train", file, "--backend", "cpu", "--out", join(dir, "run"), "--force"], io);
    assert.is(code, 0, io.stderr());
    return io.stderr();
  };
  const given = await header("  loss crossentropy label_smoothing=0.1\n  class_weight 0=2.5 3=0.5\n");
  assert.match(given, "\nloss label_smoothing=0.1\nclass weights 0=2.5 3=0.5 (others 1)\n");
  // Balanced: n / (classes * count) from the 200 training labels, each class's own figure.
  const balanced = await header("  class_weight balanced\n");
  const line = /\nclass weights balanced \(n \/ \(classes \* count\)\): (.*)\n/.exec(balanced);
  assert.ok(line, balanced);
  const weights = line[1]!.split(" ").map((kv) => Number(kv.split("=")[1]));
  assert.is(weights.length, 10);
  assert.ok(weights.every((w) => w > 0.3 && w < 3) && new Set(weights).size > 1, line[1]);
  const plain = await header("");
  assert.not.match(plain, "label_smoothing");
  assert.not.match(plain, "class weights");
});

lossHeader.run();
