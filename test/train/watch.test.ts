// Issue 19's `watch`: percentiles of a layer's input or output over the step's batch in training mode, every N
// steps, in the history. Checked against a direct computation on a fixed batch (numpy's linear-interpolation
// percentile), for its spacing, input against output, one thread against two, through a checkpoint, and that
// watching changes nothing of the training itself.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { buildModel } from "../../src/lower/model.ts";
import type { TrainState } from "../../src/runtime/types.ts";
import { writeCheckpoint } from "../../src/save/checkpoint.ts";
import { readCheckpoint } from "../../src/save/checkpoint-read.ts";
import { checkpointFingerprint } from "../../src/save/fingerprint.ts";
import { percentileOfSorted, unitPercentiles } from "../../src/train/watch.ts";
import { tempDir } from "../helpers.ts";
import { blobData, closeness, program, useBackend, weightsOf, withoutTimings } from "../lower/helpers.ts";

const SPEC = (watch: string, extra = "") => `input 4
dense 6 name=d
sigmoid name=s
dense 5 bias=false
batchnorm name=bn
relu
dense 3 softmax
train {
  data mnist validation=0.2
  batch 16
  epochs 3
  ${extra}
  ${watch}
}`;

const W = suite("watch: percentiles of a layer over training");
W.before(() => useBackend("wasm"));

W("percentiles interpolate linearly between ranks, as numpy.percentile does", () => {
  // numpy.percentile([1, 2, 3, 4], [0, 15, 50, 85, 100]) -> [1, 1.45, 2.5, 3.55, 4]
  const sorted = [1, 2, 3, 4];
  const got = [0, 15, 50, 85, 100].map((p) => percentileOfSorted(sorted, p));
  assert.ok(closeness(got, [1, 1.45, 2.5, 3.55, 4], 1e-12, 1e-12) <= 1, got.join(", "));
  // Two units, channels last: unit 0 holds 0..9, unit 1 holds 100..109 (in reverse): the mean over units, and one.
  const values = new Float32Array(20);
  for (let i = 0; i < 10; i++) {
    values[2 * i] = i;
    values[2 * i + 1] = 109 - i;
  }
  // Unit 0: 0, 4.5, 9; unit 1: 100, 104.5, 109; their mean:
  assert.equal(unitPercentiles(values, 2, [0, 50, 100]), [50, 54.5, 59]);
  assert.equal(unitPercentiles(values, 2, [0, 50, 100], 1), [100, 104.5, 109]);
});

W(
  "the recorded input of a layer equals the percentiles computed directly from the weights on a fixed batch",
  async () => {
    const prog = program(SPEC("watch s every=1"));
    const m = buildModel(prog, { backend: "wasm" });
    const data = blobData(16); // one batch of 16: step 0 sees the whole training set (shuffled)
    const kernel = m.getWeights()["d/kernel"]!.arraySync() as number[][];
    const bias = Array.from(m.getWeights()["d/bias"]!.dataSync());
    let recorded: number[][] = [];
    await m.fit(data, {
      train: { epochs: 1 },
      onWatch: (series) => {
        recorded = series[0]!.values.map((v) => v.map(Number));
      },
    });
    // Step 0's batch is the training set in some order: percentiles do not depend on the order.
    const x = Array.from({ length: 16 }, (_, i) => Array.from(data.train.x.slice(i * 4, i * 4 + 4)));
    const pre = x.map((row) => bias.map((b, u) => row.reduce((a, xi, k) => a + xi * kernel[k]![u]!, b)));
    const direct = [15, 50, 85].map((p) => {
      let sum = 0;
      for (let u = 0; u < 6; u++)
        sum += percentileOfSorted(
          pre.map((r) => r[u]!).sort((a, b) => a - b),
          p,
        );
      return sum / 6;
    });
    assert.is(recorded.length, 1);
    assert.ok(closeness(recorded[0]!, direct, 1e-5, 1e-6) <= 1, `${recorded[0]} vs ${direct}`);
    m.dispose();
  },
);

W(
  "every=N records steps 0, N, 2N ... over the whole run; input of one layer = output of the one before",
  async () => {
    const prog = program(SPEC("watch s every=4\n  watch d output every=4\n  watch bn output every=7 unit=2"));
    const m = buildModel(prog, { backend: "wasm" });
    const h = await m.fit(blobData(100), {}); // 100 training samples at batch 16: 7 steps an epoch, 21 in all
    const [sIn, dOut, bnOut] = h.watch!;
    assert.equal(sIn!.steps, [0, 4, 8, 12, 16, 20]);
    assert.equal(bnOut!.steps, [0, 7, 14]);
    assert.is(bnOut!.unit, 2);
    assert.equal(sIn!.values, dOut!.values, "s's input is d's output");
    // A batchnorm's output in training mode: each unit's batch mean is 0 (beta starts at 0), so its median is near 0
    // and its low and high percentiles straddle it.
    for (const [lo, mid, hi] of bnOut!.values as number[][])
      assert.ok(lo! < mid! && mid! < hi!, `${lo} ${mid} ${hi}`);
    m.dispose();
  },
);

W("watching changes nothing of the training; one and two threads record the same series", async () => {
  const run = async (spec: string, threads: number) => {
    const m = buildModel(program(spec), { backend: "wasm" });
    const h = await m.fit(blobData(), { threads });
    const weights = weightsOf(m);
    m.dispose();
    return { h, weights };
  };
  const plain = await run(SPEC(""), 1);
  const one = await run(SPEC("watch s every=3\n  watch bn output every=5"), 1);
  const two = await run(SPEC("watch s every=3\n  watch bn output every=5"), 2);
  assert.equal(withoutTimings(one.h.epochs), withoutTimings(plain.h.epochs));
  assert.equal(one.weights, plain.weights);
  assert.is(two.h.threads, 2, `two threads ran (${two.h.notes})`);
  for (let k = 0; k < 2; k++) {
    assert.equal(two.h.watch![k]!.steps, one.h.watch![k]!.steps);
    const c = closeness(
      two.h.watch![k]!.values.flat() as number[],
      one.h.watch![k]!.values.flat() as number[],
      1e-4,
      1e-5,
    );
    assert.ok(c <= 1, `series ${k} differs beyond float rounding (${c})`);
  }
  // The series moved as the weights trained (else equality above would say little).
  const first = one.h.watch![0]!.values[0]!;
  assert.not.equal(one.h.watch![0]!.values.at(-1), first);
});

W("a run resumed from a checkpoint continues its series as the uninterrupted run recorded them", async () => {
  const prog = program(SPEC("watch s every=2"));
  const whole = buildModel(prog, { backend: "wasm" });
  let at: TrainState | undefined;
  const full = await whole.fit(blobData(), {
    onEpochEnd: (r, state) => {
      if (r.epoch === 1) at = state();
    },
  });
  const dir = tempDir("watch-resume");
  const fingerprint = checkpointFingerprint(prog, prog.models[0]!.name);
  writeCheckpoint(dir, at!, { fingerprint });
  const resumed = buildModel(prog, { backend: "wasm", seed: 99 });
  const rest = await resumed.fit(blobData(), { resumeFrom: readCheckpoint(dir, fingerprint) });
  assert.equal(rest.watch, full.watch);
  // Watching is not part of what a checkpoint must match: another watch resumes too, from the resumed step on.
  const other = program(SPEC("watch bn output every=2"));
  assert.is(checkpointFingerprint(other, other.models[0]!.name).sha256, fingerprint.sha256);
  for (const m of [whole, resumed]) m.dispose();
});

W("nnc check: a watched layer missing from a model (E238), and what cannot be recorded (E239)", () => {
  const codes = (watch: string) => compile(SPEC(watch)).diagnostics.map((d) => `${d.code} ${d.message}`);
  assert.equal(codes("watch s"), []);
  assert.match(codes("watch sx").join("\n"), "E238 watch: model");
  assert.match(compile(SPEC("watch sx")).diagnostics[0]!.help ?? "", "did you mean 's'?");
  assert.match(codes("watch input_layer").join("\n"), "E239 watch input_layer: the input layer has no input");
  assert.match(codes("watch s unit=6").join("\n"), "which has 6 units (0..5)");
  assert.equal(codes("watch s unit=5"), []);
  assert.match(codes("watch s low=60").join("\n"), "must ascend");
  assert.match(codes("watch s\n  watch s input").join("\n"), "watched twice");
  assert.equal(codes("watch s\n  watch s output"), []);
});

W.run();
