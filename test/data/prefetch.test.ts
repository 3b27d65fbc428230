// Reading data ahead (prefetchDataset, what nnc train starts before TensorFlow.js loads): the dataset is the same
// as a plain load's, every file is read ahead once, and what fails ahead fails again, reported, in loadDataset.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { loadDataset, prefetchDataset } from "../../src/data/load.ts";
import { failsWith, tempDir } from "../helpers.ts";
import { writeIdxFolder } from "./helpers.ts";

const idx = (dir: string) => ({ source: `idx:${dir}` });

const Prefetch = suite("data: reading ahead");

Prefetch("a prefetched IDX folder (gzipped or not) loads as it does unprefetched", async () => {
  for (const gzip of [false, true]) {
    const dir = writeIdxFolder(tempDir("prefetch"), { train: 30, test: 12, shape: [3, 5], gzip });
    const plain = await loadDataset(idx(dir));
    prefetchDataset(idx(dir));
    const ahead = await loadDataset(idx(dir));
    assert.equal(ahead.train.x, plain.train.x, `train images, gzip ${gzip}`);
    assert.equal(ahead.train.y, plain.train.y);
    assert.equal(ahead.validation.x, plain.validation.x);
    assert.equal(ahead.validation.y, plain.validation.y);
    assert.equal(ahead.sampleShape, [3, 5]);
  }
});

Prefetch("a prefetched file is taken once: a later load reads the file as it is then", async () => {
  const dir = writeIdxFolder(tempDir("prefetch-once"), { train: 20, test: 5, shape: [2, 2] });
  prefetchDataset(idx(dir));
  const first = await loadDataset(idx(dir));
  // A different label file: a second load that took a stale prefetch would still see the old labels.
  const labels = join(dir, "train-labels-idx1-ubyte");
  const bytes = readFileSync(labels);
  bytes[8] = 7;
  writeFileSync(labels, bytes);
  const second = await loadDataset(idx(dir));
  assert.is(first.train.y[0], 0);
  assert.is(second.train.y[0], 7);
});

Prefetch("what fails ahead is reported by loadDataset as without prefetching (E502, E513)", async () => {
  const missing = join(tempDir("prefetch-missing"), "nothing-here");
  prefetchDataset(idx(missing)); // nothing to read: starts nothing, throws nothing
  await failsWith("E502", loadDataset(idx(missing)));

  const dir = writeIdxFolder(tempDir("prefetch-cut"), { gzip: true });
  const images = join(dir, "train-images-idx3-ubyte.gz");
  const gz = readFileSync(images);
  writeFileSync(images, gz.subarray(0, gz.length >> 1));
  prefetchDataset(idx(dir));
  await failsWith("E513", loadDataset(idx(dir)));
  // Fixed after the failed read ahead: read afresh.
  writeFileSync(images, gz);
  assert.is((await loadDataset(idx(dir))).train.count, 50);

  prefetchDataset({ source: "no-such-source" }); // an unknown source: nothing, and no throw
  prefetchDataset({ source: "csv:" }); // E511 in loadDataset, not here
});

Prefetch.run();
