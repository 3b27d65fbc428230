import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { loadDataset } from "../../src/data/load.ts";
import { rowsAsFloat32 } from "../../src/data/rows.ts";
import { readFailure } from "../../src/data/read-file.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { failsWith, tempDir } from "../helpers.ts";
import { idxBytes, makeSamples, writeIdxFolder } from "./helpers.ts";

const idx = (dir: string) => ({ source: `idx:${dir}` });

const Read = suite("idx: reading");

Read("a plain folder gives train and test splits scaled by 255", async () => {
  const dir = writeIdxFolder(tempDir("plain"), { train: 50, test: 20, shape: [4, 4] });
  const ds = await loadDataset(idx(dir));
  assert.equal(ds.sampleShape, [4, 4]);
  assert.is(ds.train.count, 50);
  assert.is(ds.validation.count, 20);
  assert.is(ds.validationName, "test");
  assert.is(ds.numClasses, 10);
  assert.is(ds.train.x.length, 50 * 16);
  // Stored as the file's bytes, scaled when rows are copied out: sample 3, pixel 5 = (3*7+5) % 256 = 26
  assert.instance(ds.train.x, Uint8Array);
  assert.is(ds.train.scale, 255);
  assert.is(ds.train.x[3 * 16 + 5], 26);
  assert.is(rowsAsFloat32(ds.train, 3, 1, 16)[5], Math.fround(26 / 255));
  assert.is(ds.train.y[13], 3);
});

Read("gzip is told by magic bytes, not the name; the mirrors' dotted spelling works", async () => {
  const plain = await loadDataset(idx(writeIdxFolder(tempDir("ref"), { shape: [3, 5] })));
  const gz = await loadDataset(
    idx(writeIdxFolder(tempDir("gz"), { shape: [3, 5], gzip: true, spelling: "dot" })),
  );
  assert.equal(gz.train.x, plain.train.x);
  assert.equal(gz.validation.y, plain.validation.y);
  // gzip content under a name without .gz
  const dir = writeIdxFolder(tempDir("gzname"), { shape: [3, 5], gzip: true });
  for (const f of [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
  ]) {
    renameSync(join(dir, `${f}.gz`), join(dir, f));
  }
  const renamed = await loadDataset(idx(dir));
  assert.equal(renamed.train.x, plain.train.x);
});

Read("scale= divides the raw bytes", async () => {
  const dir = writeIdxFolder(tempDir("scale"), { shape: [2, 2] });
  const ds = await loadDataset({ source: `idx:${dir}`, scale: 1 });
  assert.is(ds.train.scale, 1);
  assert.is(rowsAsFloat32(ds.train, 1, 1, 4)[2], (7 + 2) % 256);
  const tenth = await loadDataset({ source: `idx:${dir}`, scale: 10 });
  assert.is(rowsAsFloat32(tenth.train, 1, 1, 4)[2], Math.fround(9 / 10));
});

Read("without a t10k pair, 20% of train is held out as validation", async () => {
  const dir = writeIdxFolder(tempDir("notest"), { train: 100, test: 0 });
  const ds = await loadDataset(idx(dir));
  assert.is(ds.validationName, "validation");
  assert.is(ds.validation.count, 20);
  assert.is(ds.train.count, 80);
  assert.match(ds.description, "no test set");
});

Read("relative paths resolve against baseDir", async () => {
  const base = tempDir("base");
  writeIdxFolder(join(base, "digits"));
  const ds = await loadDataset({ source: "idx:digits" }, { baseDir: base });
  assert.is(ds.train.count, 50);
});

Read.run();

const Broken = suite("idx: broken files");

Broken("a missing folder and missing files are E502, naming what was looked for", async () => {
  const d1 = await failsWith("E502", loadDataset(idx("/nonexistent/nnc-data")));
  assert.match(d1.message, "no such folder");
  const dir = tempDir("empty");
  const d2 = await failsWith("E502", loadDataset(idx(dir)));
  assert.match(d2.message, "train-images-idx3-ubyte.gz");
  assert.match(d2.message, "train-images.idx3-ubyte");
  const half = writeIdxFolder(tempDir("half"));
  unlinkSync(join(half, "t10k-labels-idx1-ubyte"));
  const d3 = await failsWith("E502", loadDataset(idx(half)));
  assert.match(d3.message, "t10k-labels-idx1-ubyte");
});

Broken(
  "a folder where an IDX file should be is E502 naming it, and exit 1 from the CLI, not 70",
  async () => {
    const dir = writeIdxFolder(tempDir("isdir"));
    const images = join(dir, "train-images-idx3-ubyte");
    unlinkSync(images);
    mkdirSync(images);
    const d = await failsWith("E502", loadDataset(idx(dir)));
    assert.is(d.message, `${images}: is a folder, not a file`);
    const io = memoryIO();
    assert.is(await run(["data", `idx:${dir}`], io), 1, io.stderr());
    assert.match(io.stderr(), "error[E502]");
  },
);

Broken("an unreadable file is E502 with the reason", async () => {
  const reason = readFailure(
    Object.assign(new Error("EACCES: permission denied, open 'x'"), { code: "EACCES" }),
  );
  assert.is(reason, "cannot be read: permission denied");
  assert.match(readFailure(new Error("disk on fire")), "cannot be read: disk on fire");
  // For real where permissions bind (root reads anything).
  if (process.getuid?.() === 0) return;
  const dir = writeIdxFolder(tempDir("eacces"));
  chmodSync(join(dir, "train-labels-idx1-ubyte"), 0);
  const d = await failsWith("E502", loadDataset(idx(dir)));
  assert.match(d.message, "train-labels-idx1-ubyte: cannot be read: permission denied");
});

Broken("wrong magic number is E503 with the number found", async () => {
  const dir = writeIdxFolder(tempDir("magic"));
  // images and labels swapped: labels have rank 1
  const images = join(dir, "train-images-idx3-ubyte");
  writeFileSync(images, idxBytes([50], new Uint8Array(50)));
  const d = await failsWith("E503", loadDataset(idx(dir)));
  assert.match(d.message, "0x00000801");
  assert.match(d.message, images);
  // a float32 (type 0x0d) file
  writeFileSync(images, idxBytes([50, 4, 4], new Uint8Array(50 * 16), 0x0d));
  await failsWith("E503", loadDataset(idx(dir)));
});

Broken("a truncated file is E504 with the sizes; a cut gzip is E513", async () => {
  const dir = writeIdxFolder(tempDir("trunc"));
  const images = join(dir, "train-images-idx3-ubyte");
  const bytes = readFileSync(images);
  writeFileSync(images, bytes.subarray(0, bytes.length - 10));
  const d = await failsWith("E504", loadDataset(idx(dir)));
  assert.match(d.message, `announces ${50 * 16} bytes`);
  assert.match(d.message, `holds ${50 * 16 - 10}`);
  writeFileSync(images, bytes.subarray(0, 9)); // header cut
  await failsWith("E504", loadDataset(idx(dir)));
  const gz = gzipSync(bytes);
  writeFileSync(images, gz.subarray(0, gz.length >> 1));
  await failsWith("E513", loadDataset(idx(dir)));
});

Broken("label count != image count is E505", async () => {
  const dir = writeIdxFolder(tempDir("count"));
  writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), makeSamples(19, [4, 4]).labels);
  const d = await failsWith("E505", loadDataset(idx(dir)));
  assert.match(d.message, "19 labels for 20 images");
});

Broken("labels outside the model's classes are E506 (only when checked against a model)", async () => {
  const dir = writeIdxFolder(tempDir("labels"));
  const expect = { inputShape: [4, 4], numClasses: 5 };
  const d = await failsWith("E506", loadDataset(idx(dir), { expect }));
  assert.match(d.message, "label 5 at sample 5");
  assert.match(d.message, "5 classes (0..4)");
  const ds = await loadDataset(idx(dir), { expect: { inputShape: [4, 4], numClasses: 10 } });
  assert.is(ds.numClasses, 10);
});

Broken("a sample shape the model cannot take is E507; train/test shapes that differ are E514", async () => {
  const dir = writeIdxFolder(tempDir("shape"), { shape: [4, 4] });
  const d = await failsWith(
    "E507",
    loadDataset(idx(dir), { expect: { inputShape: [28, 28], numClasses: 10 } }),
  );
  assert.match(d.message, "[4, 4]");
  assert.match(d.message, "[28, 28]");
  assert.match(d.help ?? "", "[4, 4, 1]");
  for (const inputShape of [[4, 4], [4, 4, 1], [16]]) {
    await loadDataset(idx(dir), { expect: { inputShape, numClasses: 10 } });
  }
  const { images } = makeSamples(20, [5, 5]);
  writeFileSync(join(dir, "t10k-images-idx3-ubyte"), images);
  await failsWith("E514", loadDataset(idx(dir)));
  assert.ok(existsSync(dir));
});

Broken.run();
