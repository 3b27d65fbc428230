// nnc train / eval / predict as a user runs them, on small slices of the embedded digits (fast).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const tmp = mkdtempSync(join(tmpdir(), "nnc-train-"));
const out = join(tmp, "bn");
const settings = ["--limit", "600", "--batch", "64", "--backend", "cpu"];
const quick = [...settings, "--epochs", "2"];

const train = suite("nnc train");

train("trains, reports the backend and every epoch, and writes the run folder", async () => {
  const r = await nnc("train", "specs/mnist-bn.nn", ...quick, "--out", out);
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
  const r = await nnc("train", "specs/mnist-bn.nn", ...quick, "--out", out);
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E606\].*--resume.*--force/);
});

train("--resume continues to more epochs; changed settings are refused", async () => {
  const more = await nnc(
    "train",
    "specs/mnist-bn.nn",
    ...settings,
    "--epochs",
    "3",
    "--out",
    out,
    "--resume",
  );
  assert.is(more.code, 0, more.stderr);
  assert.match(more.stderr, /resuming .* after epoch 2 of 3/);
  assert.not.match(more.stderr, /epoch 1\/3/);
  assert.match(more.stderr, /epoch 3\/3/);
  const changed = await nnc("train", "specs/mnist-bn.nn", ...quick, "--lr", "0.1", "--out", out, "--resume");
  assert.is(changed.code, 1);
  assert.match(changed.stderr, /error\[E602\]/);
});

train("a data source that does not exist stops before any work", async () => {
  const r = await nnc("train", "specs/mnist-bn.nn", "--data", "mnits", "--out", join(tmp, "never"));
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

train("several models need --model", async () => {
  const r = await nnc("train", "specs/notebook-study.nn", "--epochs", "1");
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
  const file = join(tmp, "samples.json");
  writeFileSync(file, JSON.stringify([Array.from({ length: 28 }, () => new Array(28).fill(0))]));
  const fromFile = await nnc("predict", out, "--input", file, "--backend", "cpu");
  assert.is(fromFile.code, 0, fromFile.stderr);
  assert.match(fromFile.stdout, /#0 {2}predicted \d/);
  writeFileSync(file, "[[1, 2, 3]]");
  const wrong = await nnc("predict", out, "--input", file, "--backend", "cpu");
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /sample 0 must hold 784 finite numbers/);
});

saved("a folder that is not a saved model is a diagnostic", async () => {
  const r = await nnc("eval", tmp, "--backend", "cpu");
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E603\]/);
});

train.run();
saved.run();
