import { createRequire } from "node:module";
import { dirname } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { selectBackend } from "../../src/runtime/backend.ts";
import { failsWith } from "../helpers.ts";

// On this machine tfjs-node cannot install (it downloads libtensorflow); where it is installed, auto picks it.
const hasTfjsNode = (() => {
  try {
    createRequire(import.meta.url).resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
})();

const Backend = suite("backend selection");
// Leave the process on what auto picks, as the other test files expect.
Backend.after(async () => {
  await selectBackend("auto");
});

Backend("auto picks the fastest available backend and says what runs", async () => {
  const chosen = await selectBackend("auto");
  assert.is(tf.getBackend(), chosen.name);
  if (hasTfjsNode) {
    assert.is(chosen.name, "tensorflow");
  } else {
    assert.is(chosen.name, "wasm");
    assert.match(chosen.detail, /^wasm \((SIMD|no SIMD), \d+ threads?\)$/);
  }
});

Backend("a second call is cheap and gives the same answer", async () => {
  const first = await selectBackend("auto");
  const start = performance.now();
  const second = await selectBackend("auto");
  assert.ok(performance.now() - start < 5, "cached");
  assert.equal(second, first);
});

Backend("forced cpu runs on cpu, and auto switches back", async () => {
  const cpu = await selectBackend("cpu");
  assert.equal(cpu, { name: "cpu", detail: "cpu (pure JS; slow)" });
  assert.is(tf.getBackend(), "cpu");
  assert.equal(tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0], 5);
  const auto = await selectBackend("auto");
  assert.is(tf.getBackend(), auto.name);
  assert.is.not(auto.name, "cpu");
});

Backend("someone else switching backends is noticed", async () => {
  const auto = await selectBackend("auto");
  await tf.setBackend("cpu");
  assert.is((await selectBackend("auto")).name, auto.name);
  assert.is(tf.getBackend(), auto.name);
});

Backend("forced tensorflow without tfjs-node is E600 with the reason", async () => {
  if (hasTfjsNode) return;
  const before = tf.getBackend();
  const d = await failsWith("E600", () => selectBackend("tensorflow"));
  assert.match(d.message, "backend 'tensorflow' is not available: @tensorflow/tfjs-node is not installed");
  // A failed choice leaves the active backend alone.
  assert.is(tf.getBackend(), before);
});

Backend(
  "tfjs-layers and both backends resolve the same @tensorflow/tfjs-core (one engine, one registry)",
  () => {
    const require = createRequire(import.meta.url);
    const ours = require.resolve("@tensorflow/tfjs-core");
    for (const pkg of [
      "@tensorflow/tfjs-layers",
      "@tensorflow/tfjs-backend-wasm",
      "@tensorflow/tfjs-backend-cpu",
    ]) {
      const theirs = require.resolve("@tensorflow/tfjs-core", { paths: [dirname(require.resolve(pkg))] });
      assert.is(theirs, ours, pkg);
    }
  },
);

Backend.run();
