// Splits that keep image bytes (Uint8Array + scale) give the model exactly the float32 values the old
// load-time conversion gave (a 256-entry table of v / scale), through every consumer: batches, the
// stratified split/limit/validation copies, population statistics' sample, describe's range.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { evaluationBatches, trainingBatches } from "../../src/data/batches.ts";
import { describeDataset } from "../../src/data/describe.ts";
import { loadDataset } from "../../src/data/load.ts";
import { rowsAsFloat32 } from "../../src/data/rows.ts";
import { compactSplit, gatherSplit } from "../../src/data/split.ts";
import type { Dataset, Split } from "../../src/data/types.ts";
import { sampleSplit } from "../../src/train/population-stats.ts";
import { Random } from "../../src/util/random.ts";
import { tempDir } from "../helpers.ts";
import { writeIdxFolder } from "./helpers.ts";

/** What idx.ts did before bytes were kept: every byte through a float32 table of v / scale, up front. */
function oldFloatPath(bytes: Uint8Array, scale: number): Float32Array {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v / scale;
  return Float32Array.from(bytes, (b) => table[b]!);
}

function byteSplit(count: number, sampleSize: number, scale: number, seed = 3): Split & { x: Uint8Array } {
  const rng = new Random(seed);
  const x = new Uint8Array(count * sampleSize);
  for (let i = 0; i < x.length; i++) x[i] = rng.int(256);
  x[0] = 0;
  x[1] = 255; // both ends of the table
  const y = Uint8Array.from({ length: count }, (_, i) => i % 5);
  return { x, scale, y, count };
}

const asFloat = (s: Split & { x: Uint8Array }): Split => ({ ...s, x: oldFloatPath(s.x, s.scale), scale: 1 });

/** Every batch of both splits, concatenated (x values and labels). */
function allBatches(split: Split, sampleSize: number, batchSize: number): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (const b of trainingBatches(split, { batchSize, sampleSize, seed: 11, epoch: 2 })) {
    x.push(...b.x);
    y.push(...b.y);
  }
  return { x, y };
}

const Bytes = suite("data: byte storage scaled when batches are built");

Bytes("training and evaluation batches of bytes equal the old float32 path, bit for bit", () => {
  // 16 values a row takes the four-bytes-per-load path, 15 the byte loop; 255, 1 and an odd scale.
  for (const sampleSize of [16, 15])
    for (const scale of [255, 1, 3.7]) {
      const bytes = byteSplit(37, sampleSize, scale);
      const floats = asFloat(bytes);
      const got = allBatches(bytes, sampleSize, 8);
      assert.equal(got, allBatches(floats, sampleSize, 8), `sampleSize ${sampleSize}, scale ${scale}`);
      if (scale !== 1)
        assert.ok(
          got.x.some((v) => v !== Math.round(v)),
          "values are scaled, not the bytes",
        );
      const evalRows: number[] = [];
      for (const b of evaluationBatches(bytes, { batchSize: 10, sampleSize })) evalRows.push(...b.x);
      assert.equal(evalRows, [...floats.x]);
    }
});

Bytes("a byte view that does not start on a 4-byte boundary is read correctly", () => {
  const backing = byteSplit(13, 9, 255); // 117 bytes
  const offset = backing.x.subarray(9); // rows 1.. at byte offset 9
  const split: Split = { x: offset, scale: 255, y: backing.y.subarray(1), count: 12 };
  assert.equal([...rowsAsFloat32(split, 0, 12, 9)], [...oldFloatPath(offset, 255)]);
  const aligned = byteSplit(13, 8, 255).x.subarray(8); // offset 8, sampleSize 8: the word path
  const split8: Split = { x: aligned, scale: 255, y: new Uint8Array(12), count: 12 };
  assert.equal([...rowsAsFloat32(split8, 2, 5, 8)], [...oldFloatPath(aligned.subarray(16, 56), 255)]);
});

Bytes("float32 data with a scale other than 1 is divided too", () => {
  const split: Split = { x: Float32Array.of(1, 2, 3, 4), scale: 4, y: Uint8Array.of(0, 1), count: 2 };
  assert.equal([...rowsAsFloat32(split, 1, 1, 2)], [0.75, 1]);
});

Bytes("gather/compact (validation=, limit=) keep bytes and the scale, and select the same rows", () => {
  const bytes = byteSplit(40, 6, 255);
  const floats = asFloat(bytes);
  const picked = [3, 0, 17, 39];
  const g = gatherSplit(bytes, picked, 6);
  assert.instance(g.x, Uint8Array);
  assert.is(g.scale, 255);
  assert.equal([...rowsAsFloat32(g, 0, 4, 6)], [...gatherSplit(floats, picked, 6).x]);
  const keep = [1, 2, 10, 30];
  const c = compactSplit(byteSplit(40, 6, 255), keep, 6);
  assert.instance(c.x, Uint8Array);
  assert.is(c.scale, 255);
  assert.equal([...rowsAsFloat32(c, 0, 4, 6)], [...compactSplit(asFloat(bytes), keep, 6).x]);
});

Bytes("an IDX folder with validation= and limit= stays bytes and batches as the float path did", async () => {
  const dir = writeIdxFolder(tempDir("bytes-split"), { train: 90, test: 0, shape: [2, 3] });
  const ds = await loadDataset({ source: `idx:${dir}`, validation: 0.2, limit: 40 });
  for (const split of [ds.train, ds.validation]) {
    assert.instance(split.x, Uint8Array);
    assert.is(split.scale, 255);
  }
  assert.is(ds.train.count, 40);
  assert.is(ds.validation.count, 18);
  // Pixel j of the file's sample i is (i * 7 + j) % 256: each row must be one such sample, divided by 255.
  const rows = rowsAsFloat32(ds.validation, 0, ds.validation.count, 6);
  for (let r = 0; r < ds.validation.count; r++) {
    const first = Math.round(rows[r * 6]! * 255);
    for (let j = 0; j < 6; j++) assert.is(rows[r * 6 + j], Math.fround(((first + j) % 256) / 255));
  }
});

Bytes("population statistics' sample keeps bytes and the scale", () => {
  const bytes = byteSplit(50, 4, 255);
  const s = sampleSplit(bytes, 20, 9, 4);
  assert.instance(s.x, Uint8Array);
  assert.is(s.scale, 255);
  assert.is(s.count, 20);
  assert.equal([...rowsAsFloat32(s, 0, 20, 4)], [...sampleSplit(asFloat(bytes), 20, 9, 4).x]);
});

Bytes("describe reports the range after scaling", () => {
  const split = (x: Uint8Array | Float32Array, scale: number): Split => ({
    x,
    scale,
    y: new Uint8Array(x.length),
    count: x.length,
  });
  const ds = (train: Split, validation: Split): Dataset => ({
    source: "t",
    description: "t",
    sampleShape: [1],
    numClasses: 1,
    train,
    validation,
    validationName: "test",
  });
  const bytes = describeDataset(ds(split(Uint8Array.of(3, 200, 17), 255), split(Uint8Array.of(9, 250), 255)));
  assert.equal(bytes.valueRange, { min: Math.fround(3 / 255), max: Math.fround(250 / 255) });
  const mixed = describeDataset(ds(split(Float32Array.of(-0.5, 0.25), 1), split(Uint8Array.of(0, 51), 51)));
  assert.equal(mixed.valueRange, { min: -0.5, max: 1 });
});

Bytes(
  "a split made by hand without scale (plain JS) reads unscaled, not NaN; so does its description",
  () => {
    const split = { x: new Float32Array([0.25, 0.5, 0.75, 1]), y: new Int32Array([0, 1]), count: 2 };
    assert.equal(Array.from(rowsAsFloat32(split as unknown as Split, 0, 2, 2)), [0.25, 0.5, 0.75, 1]);
    const ds = {
      source: "hand",
      description: "",
      sampleShape: [2],
      numClasses: 2,
      train: split,
      validation: split,
      validationName: "test",
    };
    const range = describeDataset(ds as unknown as Dataset).valueRange;
    assert.equal([range.min, range.max], [0.25, 1]);
  },
);

Bytes("other numeric arrays from plain JS callers are copied (scaled), not read as bytes", () => {
  for (const x of [new Float64Array([0.5, 300, 1, 2]), new Int32Array([0, 300, 1, 2])]) {
    const split = { x, y: new Int32Array([0, 1]), count: 2, scale: 2 };
    assert.equal(
      Array.from(rowsAsFloat32(split as unknown as Split, 0, 2, 2)),
      Array.from(x, (v) => v / 2),
    );
  }
});

Bytes.run();
