import { suite } from "uvu";
import * as assert from "uvu/assert";
import { epochOrder, evaluationBatches, trainingBatches } from "../../src/data/batches.ts";
import type { Split } from "../../src/data/types.ts";

/** Sample i has features [i, i + 0.5] and label i % 7, so a batch row tells which sample it holds. */
function makeSplit(count: number): Split {
  const x = new Float32Array(count * 2);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = i + 0.5;
    y[i] = i % 7;
  }
  return { x, scale: 1, y, count };
}

/** Runs one epoch, checking each row against its index, and returns the indices in order. */
function collect(
  batches: Iterable<{ x: Float32Array; y: Int32Array; indices: Int32Array; size: number }>,
): number[] {
  const seen: number[] = [];
  for (const b of batches) {
    for (let j = 0; j < b.size; j++) {
      const i = b.indices[j]!;
      assert.is(b.x[2 * j], i);
      assert.is(b.x[2 * j + 1], i + 0.5);
      assert.is(b.y[j], i % 7);
      seen.push(i);
    }
    assert.is(b.x.length, b.size * 2);
    assert.is(b.y.length, b.size);
  }
  return seen;
}

const Batches = suite("batches");

Batches("every sample exactly once per epoch, in batches of the given size", () => {
  const split = makeSplit(103);
  const epoch = trainingBatches(split, { batchSize: 10, sampleSize: 2, seed: 1, epoch: 1 });
  assert.is(epoch.steps, 11);
  assert.is(epoch.mergedLastSingleton, false);
  const sizes = [...epoch].map((b) => b.size);
  assert.equal(sizes, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
  const seen = collect(trainingBatches(split, { batchSize: 10, sampleSize: 2, seed: 1, epoch: 1 }));
  assert.equal(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 103 }, (_, i) => i),
  );
  assert.not.equal(
    seen,
    [...seen].sort((a, b) => a - b),
    "shuffled",
  );
});

Batches("the order is a function of (seed, epoch) alone", () => {
  const split = makeSplit(50);
  const order = (seed: number, epoch: number) =>
    collect(trainingBatches(split, { batchSize: 8, sampleSize: 2, seed, epoch }));
  assert.equal(order(3, 2), order(3, 2));
  assert.not.equal(order(3, 2), order(3, 3));
  assert.not.equal(order(3, 2), order(4, 2));
  // A run "resumed" at epoch 3 sees what an uninterrupted run saw at epoch 3.
  const uninterrupted = [1, 2, 3].map((e) => order(9, e));
  assert.equal(order(9, 3), uninterrupted[2]);
  assert.equal(Array.from(epochOrder(50, 9, 3)), uninterrupted[2]);
});

Batches("a final batch of one sample joins the previous batch", () => {
  const split = makeSplit(21);
  const epoch = trainingBatches(split, { batchSize: 10, sampleSize: 2, seed: 0, epoch: 1 });
  assert.is(epoch.mergedLastSingleton, true);
  assert.is(epoch.steps, 2);
  assert.equal(
    [...epoch].map((b) => [b.step, b.steps, b.size]),
    [
      [1, 2, 10],
      [2, 2, 11],
    ],
  );
  assert.is(
    new Set(collect(trainingBatches(split, { batchSize: 10, sampleSize: 2, seed: 0, epoch: 1 }))).size,
    21,
  );
  // not for evaluation, nor when the split is a single sample, nor for batch size 1
  assert.equal(
    [...evaluationBatches(split, { batchSize: 10, sampleSize: 2 })].map((b) => b.size),
    [10, 10, 1],
  );
  assert.is(
    trainingBatches(makeSplit(1), { batchSize: 10, sampleSize: 2, seed: 0, epoch: 1 }).mergedLastSingleton,
    false,
  );
  assert.is(trainingBatches(split, { batchSize: 1, sampleSize: 2, seed: 0, epoch: 1 }).steps, 21);
});

Batches("buffers are preallocated once and reused for every batch", () => {
  const split = makeSplit(45);
  const buffers = new Set<ArrayBufferLike>();
  const labelBuffers = new Set<ArrayBufferLike>();
  for (const b of trainingBatches(split, { batchSize: 10, sampleSize: 2, seed: 5, epoch: 1 })) {
    buffers.add(b.x.buffer);
    labelBuffers.add(b.y.buffer);
  }
  assert.is(buffers.size, 1);
  assert.is(labelBuffers.size, 1);
  assert.ok([...buffers][0]!.byteLength < split.x.byteLength, "no copy of the whole split");
});

Batches("evaluation batches are sequential; shuffle=false trains in order", () => {
  const split = makeSplit(25);
  assert.equal(
    collect(evaluationBatches(split, { batchSize: 7, sampleSize: 2 })),
    Array.from({ length: 25 }, (_, i) => i),
  );
  const inOrder = collect(
    trainingBatches(split, { batchSize: 7, sampleSize: 2, seed: 1, epoch: 4, shuffle: false }),
  );
  assert.equal(
    inOrder,
    Array.from({ length: 25 }, (_, i) => i),
  );
});

Batches.run();
