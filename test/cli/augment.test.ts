// Augmentation as a user meets it: `nnc train` says it in the run header and records it in the manifest;
// an experiment varies it (`vary augment none "flip=horizontal crop=2"`), and results.json and the report
// name each group's augmentation.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { runExperiment } from "../../src/experiment/run-experiment.ts";
import { validateResults, type Results } from "../../src/experiment/results-schema.ts";
import { resultsPath } from "../../src/experiment/results.ts";
import { tempDir } from "../helpers.ts";
import { runOptions, tinySpec } from "../experiment/helpers.ts";

const SPEC = `input 28x28x1
conv2d 4 3x3
relu
flatten
dense 10 softmax

train {
  data mnist limit=256
  batch 64
  epochs 1
  augment flip=horizontal rotate=10 crop=2
}
`;

const Cli = suite("augment: nnc train and experiments");

Cli("nnc train prints the augmentation in its header and records it in the manifest", async () => {
  const dir = tempDir("augment-train");
  const file = join(dir, "conv.nn");
  writeFileSync(file, SPEC);
  const io = memoryIO();
  const code = await run(["train", file, "--backend", "cpu", "--out", join(dir, "run")], io);
  assert.is(code, 0, io.stderr());
  assert.match(
    io.stderr(),
    "augmentation of training batches: random horizontal flip, rotation ±10°, 2-pixel pad and random crop\n",
  );
  const manifest = JSON.parse(readFileSync(join(dir, "run", "manifest.json"), "utf8"));
  assert.equal(manifest.train.augment, { flip: "horizontal", rotate: 10, crop: 2 });
});

Cli("without augment the header says nothing of it", async () => {
  const dir = tempDir("augment-none");
  const file = join(dir, "conv.nn");
  writeFileSync(file, SPEC.replace(/ {2}augment.*\n/, ""));
  const io = memoryIO();
  const code = await run(["train", file, "--backend", "cpu", "--out", join(dir, "run")], io);
  assert.is(code, 0, io.stderr());
  assert.not.match(io.stderr(), "augmentation");
});

Cli("vary augment: a group per value in results.json and the report", async () => {
  const dir = tempDir("augment-vary");
  const text = tinySpec('experiment aug {\n  compare plain\n  vary augment none "flip=horizontal crop=2"\n}');
  const io = memoryIO();
  await runExperiment(io, runOptions(dir, text));
  assert.match(io.stderr(), 'augmentation of training batches: varied (none, "flip=horizontal crop=2")\n');
  const results = JSON.parse(readFileSync(resultsPath(join(dir, "out")), "utf8")) as Results;
  assert.equal(validateResults(results), []);
  assert.equal(
    results.cells.map((c) => [c.varied.augment, c.train.augment]),
    [
      ["none", undefined],
      ["flip=horizontal crop=2", { flip: "horizontal", crop: 2 }],
    ],
  );
  assert.not.equal(results.cells[0]!.history, results.cells[1]!.history);
  const report = readdirSync(join(dir, "out")).find((f) => f.endsWith(".html"));
  assert.ok(report, "a report is written");
  const html = readFileSync(join(dir, "out", report!), "utf8");
  assert.match(html, /augment=(&quot;|")flip=horizontal crop=2/);
});

Cli.run();
