// Issue 14's optimizer and loss options through a checkpoint: a run with AdamW (decoupled weight decay), gradient
// clipping, an L2 kernel penalty, label smoothing and class weights, stopped after 2 epochs, written to a
// checkpoint file, read back and resumed, ends with the uninterrupted run's weights and history, on one thread
// and on two. The options hold no state of their own beyond Adam's slots, so any of them reapplied wrongly on
// resume (a decay applied twice, the clip or the weights lost) shows as a different trajectory. A checkpoint
// written under other values of any of them is refused, naming what changed.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { buildModel } from "../../src/lower/model.ts";
import type { TrainState } from "../../src/runtime/types.ts";
import { checkpointFingerprint, resumeCheck } from "../../src/save/fingerprint.ts";
import { writeCheckpoint } from "../../src/save/checkpoint.ts";
import { readCheckpoint } from "../../src/save/checkpoint-read.ts";
import { tempDir } from "../helpers.ts";
import { blobData, program, useBackend, values, weightsOf, withoutTimings } from "../lower/helpers.ts";

const SPEC = `input 4; dense 16 l2=0.001; batchnorm; relu; dense 8; relu; dense 3 softmax
train {
  data mnist validation=0.2
  optimizer adamw lr=0.01 weight_decay=0.05 global_clipnorm=0.5
  loss crossentropy label_smoothing=0.1
  class_weight 0=2 2=0.5
  batch 16
  epochs 5
  seed 4
}`;

const R = suite("AdamW, clipping, L2, label smoothing and class weights resumed from a checkpoint");
R.before(() => useBackend("wasm"));

for (const threads of [1, 2]) {
  R(`equals the uninterrupted run (${threads} thread${threads === 1 ? "" : "s"})`, async () => {
    const prog = program(SPEC);
    const whole = buildModel(prog, { backend: "wasm" });
    let at: TrainState | undefined;
    const full = await whole.fit(blobData(), {
      threads,
      onEpochEnd: (r, state) => {
        if (r.epoch === 2) at = state();
      },
    });
    assert.ok(at, "state after epoch 2");
    const dir = tempDir("resume-options");
    const fingerprint = checkpointFingerprint(prog, prog.models[0]!.name);
    writeCheckpoint(dir, at!, { fingerprint });
    // Another seed for the rebuilt model: everything must come from the checkpoint.
    const resumed = buildModel(prog, { backend: "wasm", seed: 99 });
    const rest = await resumed.fit(blobData(), { threads, resumeFrom: readCheckpoint(dir, fingerprint) });
    assert.equal(withoutTimings(rest.epochs), withoutTimings(full.epochs));
    assert.equal(weightsOf(resumed), weightsOf(whole));
    // The options changed the trajectory (else this test could not fail on them): plain Adam differs.
    const plain = buildModel(program(SPEC.replace(/optimizer .*/, "optimizer adam lr=0.01")), {
      backend: "wasm",
    });
    await plain.fit(blobData(), { threads });
    assert.not.equal(weightsOf(plain), weightsOf(whole));
    for (const m of [whole, resumed, plain]) m.dispose();
  });
}

R("a checkpoint is refused when any of these options changed, and the refusal names it", () => {
  const prog = program(SPEC);
  const saved = checkpointFingerprint(prog, prog.models[0]!.name);
  const changes: Array<[string, string, RegExp]> = [
    ["weight_decay=0.05", "weight_decay=0.01", /^optimizer /],
    ["global_clipnorm=0.5", "clipnorm=0.5", /^optimizer /],
    ["label_smoothing=0.1", "label_smoothing=0.2", /^loss /],
    ["class_weight 0=2 2=0.5", "class_weight balanced", /^classWeight /],
    ["dense 16 l2=0.001", "dense 16 l2=0.01", /^model 'model' changed in layer dense$/],
  ];
  for (const [from, to, said] of changes) {
    const other = program(SPEC.replace(from, to));
    const check = resumeCheck(saved, checkpointFingerprint(other, other.models[0]!.name));
    assert.is(check.ok, false, `${from} -> ${to}`);
    if (!check.ok) assert.match(check.changes.join("\n"), said);
  }
});

R.run();
