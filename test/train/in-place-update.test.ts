// The wasm update of a large weight in place (src/train/tensor-memory.ts): no second buffer on the heap, the
// variable keeps its memory, and XNNPACK's packed copy of the old values is dropped (a matmul after the update
// multiplies with the new ones). Smaller weights, and weights whose memory is shared, still get fresh memory.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { IN_PLACE_MIN_VALUES } from "../../src/ir/training-memory.ts";
import { openUpdate, runUpdate, wasmHeap } from "../../src/train/tensor-memory.ts";
import { useBackend, values } from "../lower/helpers.ts";

const update = suite("the wasm update in place");
update.before(() => useBackend("wasm"));

/** A variable that owns its memory alone (tf.variable(t) shares t's until t is disposed). */
function ownVariable(shape: [number, number], fill: (i: number) => number): tf.Variable {
  const init = tf.tensor(
    Float32Array.from({ length: shape[0] * shape[1] }, (_, i) => fill(i)),
    shape,
  );
  const v = tf.variable(init);
  init.dispose();
  return v;
}

update("a weight of IN_PLACE_MIN_VALUES keeps its memory; a matmul after it sees the new values", () => {
  const side = Math.sqrt(IN_PLACE_MIN_VALUES); // 4096 x 4096: 64 MiB
  const w = ownVariable([side, side], (i) => ((i % 7) - 3) / 8);
  const x = tf.tensor2d(
    Float32Array.from({ length: 2 * side }, (_, i) => ((i % 5) - 2) / 4),
    [2, side],
  );
  const heap = wasmHeap()!;
  // XNNPACK packs the right operand of a matmul and caches the packing by tensor id.
  const before = values(tf.tidy(() => tf.matMul(x, w)));
  const address = heap.pointer(w);
  const ids = tf.engine().backend.numDataIds();
  const open = openUpdate([], [w]);
  assert.is(open.next[0]!.byteOffset, open.current[0]!.byteOffset, "next is the weight's own memory");
  runUpdate(open, (o) => {
    const [current, next] = [o.current[0]!, o.next[0]!];
    for (let i = 0; i < next.length; i++) next[i] = current[i]! + 1;
  });
  assert.is(heap.pointer(w), address, "the variable kept its memory");
  assert.is(tf.engine().backend.numDataIds(), ids, "no buffer was left behind");
  const after = values(tf.tidy(() => tf.matMul(x, w)));
  // Every weight grew by 1: each output grows by the sum of its row of x.
  const rowSums = [0, 1].map((r) =>
    values(x)
      .slice(r * side, (r + 1) * side)
      .reduce((a, b) => a + b, 0),
  );
  for (let j = 0; j < side; j += 511) {
    assert.ok(Math.abs(after[j]! - (before[j]! + rowSums[0]!)) < 1e-3, `row 0, column ${j}`);
    assert.ok(Math.abs(after[side + j]! - (before[side + j]! + rowSums[1]!)) < 1e-3, `row 1, column ${j}`);
  }
  tf.dispose([w, x]);
});

update("a smaller weight, or one whose memory is shared, gets fresh memory", () => {
  const small = ownVariable([2, 3], (i) => i);
  const init = tf.tensor2d(new Float32Array(IN_PLACE_MIN_VALUES), [IN_PLACE_MIN_VALUES / 1024, 1024]);
  const shared = tf.variable(init); // shares init's memory while init lives
  const heap = wasmHeap()!;
  const open = openUpdate([], [small, shared]);
  assert.is.not(open.next[0]!.byteOffset, open.current[0]!.byteOffset);
  assert.is.not(open.next[1]!.byteOffset, open.current[1]!.byteOffset);
  const sharedAt = heap.pointer(shared);
  runUpdate(open, (o) => o.next.forEach((n) => n.fill(2)));
  assert.is.not(heap.pointer(shared), sharedAt);
  assert.equal(values(init).slice(0, 3), [0, 0, 0], "the tensor it shared with keeps its values");
  assert.equal(values(small), [2, 2, 2, 2, 2, 2]);
  tf.dispose([small, shared, init]);
});

update.run();
