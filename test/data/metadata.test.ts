// What `nnc check` knows of a data source without loading it (src/data/metadata.ts) must be what loading gives;
// and the hold-out rule both share (src/data/hold-out.ts) says when it is the default that leaves nothing.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fashionMnistInstalled } from "../../src/data/fashion-mnist.ts";
import { planHoldOut, trainingSamples } from "../../src/data/hold-out.ts";
import { loadDataset } from "../../src/data/load.ts";
import { readDataMetadata } from "../../src/data/metadata.ts";
import type { DataRef } from "../../src/ir/schema.ts";
import { failsWith, tempDir } from "../helpers.ts";
import { idxBytes, writeIdxFolder } from "./helpers.ts";

const Meta = suite("data metadata: what check reads equals what training loads");

/**
 * Metadata against the data set loaded from the source alone (its own splits) and with the whole setting (what
 * training gets after the hold-out and the limit).
 */
async function agrees(ref: DataRef, baseDir?: string): Promise<void> {
  const where = baseDir ? { baseDir } : {};
  const meta = await readDataMetadata(ref, where);
  const own = await loadDataset(
    { source: ref.source, ...(ref.label !== undefined ? { label: ref.label } : {}) },
    where,
  );
  assert.equal(meta.sampleShape, own.sampleShape, `${ref.source}: shape`);
  assert.is(meta.numClasses, own.numClasses, `${ref.source}: classes`);
  assert.is(meta.labelKind, "class-index");
  const test = own.validationName === "test";
  assert.is(
    meta.trainCount,
    own.train.count + (test ? 0 : own.validation.count),
    `${ref.source}: training samples`,
  );
  assert.is(meta.testCount, test ? own.validation.count : undefined, `${ref.source}: test samples`);
  const trained = await loadDataset(ref, where);
  assert.is(trainingSamples(ref, meta.trainCount, meta.testCount !== undefined), trained.train.count);
}

Meta("mnist: known without reading the digits", async () => {
  await agrees({ source: "mnist" });
  await agrees({ source: "mnist", validation: 0.25, limit: 1000 });
});

Meta(
  "idx folders, plain and gzipped, with and without a test pair; classes from the label files",
  async () => {
    await agrees({
      source: `idx:${writeIdxFolder(tempDir("meta-idx"), { train: 40, test: 12, shape: [5, 3] })}`,
    });
    await agrees({ source: `idx:${writeIdxFolder(tempDir("meta-gz"), { train: 30, test: 0, gzip: true })}` });
    // Relative paths resolve against the base folder, as the spec's folder for `nnc check`.
    const base = tempDir("meta-rel");
    writeIdxFolder(join(base, "data"), { train: 20, test: 5 });
    await agrees({ source: "idx:data" }, base);
  },
);

Meta("a large gzipped image file: only its header is inflated, and its dimensions are right", async () => {
  const dir = tempDir("meta-big");
  const count = 3000;
  const images = idxBytes(
    [count, 28, 28],
    new Uint8Array(count * 784).map((_, i) => (i * 31) % 251),
  );
  writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), gzipSync(images));
  writeFileSync(
    join(dir, "train-labels-idx1-ubyte"),
    idxBytes(
      [count],
      new Uint8Array(count).map((_, i) => i % 7),
    ),
  );
  const meta = await readDataMetadata({ source: `idx:${dir}` });
  assert.equal([meta.sampleShape, meta.numClasses, meta.trainCount], [[28, 28], 7, count]);
});

Meta("idx: images and labels that disagree are E505, a bad magic number E503", async () => {
  const dir = tempDir("meta-bad");
  writeFileSync(join(dir, "train-images-idx3-ubyte"), idxBytes([4, 2, 2], new Uint8Array(16)));
  writeFileSync(join(dir, "train-labels-idx1-ubyte"), idxBytes([3], [0, 1, 2]));
  await failsWith("E505", readDataMetadata({ source: `idx:${dir}` }));
  writeFileSync(join(dir, "train-images-idx3-ubyte"), Buffer.from("not an idx file at all"));
  await failsWith("E503", readDataMetadata({ source: `idx:${dir}` }));
});

Meta("csv: classes and counts from the label column, with a labelled test.csv", async () => {
  const dir = tempDir("meta-csv");
  const rows = (n: number) => Array.from({ length: n }, (_, i) => `${i * 0.5},${i % 4},${i}`);
  writeFileSync(join(dir, "train.csv"), ["f,target,g", ...rows(20)].join("\n"));
  writeFileSync(join(dir, "test.csv"), ["f,target,g", ...rows(6)].join("\n"));
  await agrees({ source: `csv:${dir}` });
  await agrees({ source: `csv:${dir}`, label: "g", validation: 0.5 });
});

if (fashionMnistInstalled()) {
  Meta("fashion-mnist: from the installed files' headers", async () => {
    const meta = await readDataMetadata({ source: "fashion-mnist" });
    assert.equal(
      [meta.sampleShape, meta.numClasses, meta.trainCount, meta.testCount],
      [[28, 28], 10, 60000, 10000],
    );
  });
}

Meta("missing data is the data layer's own error (E502), a misspelt source E500", async () => {
  await failsWith("E502", readDataMetadata({ source: "idx:/nonexistent/folder" }));
  await failsWith("E500", readDataMetadata({ source: "mnsit" }));
});

Meta.run();

const Hold = suite("hold-out: what a data setting leaves for training");

Hold(
  "the default hold-out that leaves nothing is E519: it says it is the default and how to change it",
  () => {
    const ref = { source: "csv:two.csv", span: [10, 30] as [number, number] };
    const d = (() => {
      try {
        planHoldOut(ref, 2, false);
      } catch (e) {
        return (e as { diagnostic: { code: string; message: string; help?: string; span?: number[] } })
          .diagnostic;
      }
      return undefined;
    })();
    assert.ok(d, "E519 expected");
    assert.is(d.code, "E519");
    assert.is(
      d.message,
      "data 'csv:two.csv' has no test set, so by default (validation=0.2, as none was given) 20% of its 2 " +
        "training samples would be held out as validation, which leaves no validation sample",
    );
    assert.match(d.help ?? "", "`data csv:two.csv validation=0.5`");
    assert.equal(d.span, [10, 30]);
    // One sample: no fraction works.
    const one = (() => {
      try {
        planHoldOut(ref, 1, false);
      } catch (e) {
        return (e as { diagnostic: { help?: string } }).diagnostic;
      }
      return undefined;
    })();
    assert.match(one?.help ?? "", "a hold-out needs 2 or more training samples");
  },
);

Hold("a written fraction that leaves nothing stays E511; a test set means no hold-out", async () => {
  const d = await failsWith("E511", () => planHoldOut({ source: "x", validation: 0.9 }, 5, false));
  assert.match(d.message, "data option 'validation': 0.9 of 5 training samples leaves no training sample");
  assert.is(planHoldOut({ source: "x" }, 5, true), undefined);
  assert.equal(planHoldOut({ source: "x" }, 10, false), { fraction: 0.2, take: 2, isDefault: true });
  assert.is(trainingSamples({ source: "x", validation: 0.5, limit: 3 }, 10, true), 3);
  assert.is(trainingSamples({ source: "x", limit: 30 }, 10, true), 10);
});

Hold("loadDataset gives E519 for a 2-row CSV without validation=", async () => {
  const path = join(tempDir("two-rows"), "two.csv");
  writeFileSync(path, "label,a\n0,1\n1,2\n");
  const d = await failsWith("E519", loadDataset({ source: `csv:${path}` }));
  assert.match(d.message, "by default (validation=0.2, as none was given)");
  const ds = await loadDataset({ source: `csv:${path}`, validation: 0.5 });
  assert.equal([ds.train.count, ds.validation.count], [1, 1]);
});

Hold.run();
