// Checkpoint fingerprints and experiment cell ids are hashes of canonical JSON (src/util/canonical-json.ts):
// equal settings give equal hashes whatever their key order and source positions, and the hashes of runs
// written before stay what they were, so --resume still finds them.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { cellId, expandGrid } from "../../src/experiment/grid.ts";
import type { Experiment, Program, Train } from "../../src/ir/schema.ts";
import { checkpointFingerprint } from "../../src/save/fingerprint.ts";
import { canonicalJson, stripSpans } from "../../src/util/canonical-json.ts";

const canonical = suite("canonical JSON");

canonical("sorted keys at every depth, no spaces, undefined left out, arrays in order", () => {
  assert.is(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } }),
    '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
  );
  assert.is(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  assert.is(canonicalJson([2, 1]), "[2,1]");
  assert.is(canonicalJson({ x: NaN }), '{"x":null}');
});

canonical("stripSpans drops span, argSpans and expandedFrom at every depth, keeps the rest", () => {
  const value = {
    span: [0, 1],
    a: { span: [2, 3], argSpans: [[4, 5]], b: 1 },
    list: [{ span: [6, 7], c: 2, expandedFrom: [{ start: 8, end: 9 }] }],
  };
  assert.equal(stripSpans(value), { a: { b: 1 }, list: [{ c: 2 }] });
  assert.equal(value.a.span, [2, 3], "a copy: the input is unchanged");
});

// Hand-written IR (not compiled, so a change in the front end does not move these hashes): a train block and a
// model with source positions, as a spec gives them.
const train = {
  data: { source: "mnist", limit: 50, span: [1, 2] },
  optimizer: { type: "adam", lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, span: [3, 4] },
  loss: { type: "auto" },
  batch: 32,
  epochs: 2,
  seed: 3,
  bnstats: { mode: "exact" },
  init: { name: "glorot_uniform", scale: 0.5 },
  span: [0, 9],
} as unknown as Train;
const model = {
  name: "m",
  span: [0, 5],
  layers: [
    { name: "input", op: "input", shape: [4], span: [1, 2], argSpans: [[1, 2]] },
    {
      name: "dense",
      op: "dense",
      units: 3,
      activation: "softmax",
      outputShape: [null, 3],
      params: 15,
      span: [3, 4],
      argSpans: [[5, 6]],
    },
  ],
};
const program = { models: [model], train, experiments: [] } as unknown as Program;
/** The same settings, keys in another order, positions elsewhere. */
const moved = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (key, v) => (key === "span" ? [v[0] + 100, v[1] + 100] : v)),
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
  );

const stable = suite("stable hashes");

stable("cell ids: the same for reordered and moved settings, and as nnc wrote them before", () => {
  assert.is(cellId("m", moved(train) as Train), cellId("m", train));
  assert.is.not(cellId("m", { ...train, batch: 64 }), cellId("m", train));
  // Written by nnc before canonicalJson moved to src/util (commit 550315b): results.json files hold it.
  assert.is(cellId("m", train), "42d25ce061f70ba9");
});

stable(
  "a grid's cell ids, from the file's, the experiment's and the run's settings, as written before",
  () => {
    const experiment = {
      name: "e",
      compare: ["m"],
      vary: [
        { key: "optimizer", values: ["sgd", "adam"], span: [5, 6] },
        { key: "batch", values: [32] },
        { key: "init_scale", values: [0.5] },
      ],
      repeat: 2,
      lrScale: { rule: "linear", referenceBatch: 16 },
      train: { epochs: 4, bnstats: { mode: "ema" } },
      span: [4, 8],
    } as unknown as Experiment;
    const base = { ...train, batch: 16, epochs: 3, data: { source: "mnist", span: [1, 2] } } as Train;
    const cells = expandGrid({ ...program, train: base, experiments: [experiment] }, experiment, {
      limit: 50,
    });
    // As nnc wrote them before (commit eed7063): how settings are merged may change, the ids may not.
    assert.equal(
      cells.map((c) => c.id),
      ["11ce71eda7934493", "3071f3eb0931eb77", "b8d463653864ce6c", "fc75db941eb2997c"],
    );
  },
);

stable("checkpoint fingerprints: the same for reordered and moved settings, and as written before", () => {
  const fingerprint = checkpointFingerprint(program, "m");
  assert.is(checkpointFingerprint(moved(program) as Program, "m").sha256, fingerprint.sha256);
  assert.is.not(
    checkpointFingerprint({ ...program, train: { ...train, seed: 4 } }, "m").sha256,
    fingerprint.sha256,
  );
  // As nnc wrote it before (commit 550315b): checkpoint.ckpt files hold it.
  assert.is(fingerprint.sha256, "b842f3d23562bc1b73ae53180a84bdeb4eeb835c9553bca2cfa6a4da3e1d0226");
});

stable("a graph's fingerprint ignores where its block uses were written (a comment above one)", () => {
  const text = readFileSync(new URL("../../specs/resnet.nn", import.meta.url), "utf8");
  const moved = text.replace("  repeat 2 {", "  # two identity blocks\n  repeat 2 {");
  const [a, b] = [text, moved].map((t) => compile(t).program!);
  assert.ok(
    a.models[0]!.layers.some((l) => (l.expandedFrom?.length ?? 0) > 0),
    "layers from block uses",
  );
  assert.is(checkpointFingerprint(b, "resnet").sha256, checkpointFingerprint(a, "resnet").sha256);
});

canonical.run();
stable.run();
