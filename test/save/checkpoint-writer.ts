// Test helper, run as a child process by checkpoint.test.ts: rewrites a large checkpoint in a loop, printing
// the epoch of each completed write, until it is killed — to show a kill mid-write leaves a valid checkpoint.
import type { EpochRecord } from "../../src/runtime/types.ts";
import { writeCheckpoint } from "../../src/save/index.ts";
import { WRITER_FINGERPRINT as fingerprint } from "./checkpoint-writer-model.ts";

const dir = process.argv[2]!;
// 8 MB of weights: a write takes long enough that a kill often lands inside one.
const data = new Float32Array(2_000_000);
// A history of as many epochs as are done, as readCheckpoint requires.
const epochs: EpochRecord[] = [];
for (let epoch = 1; ; epoch++) {
  data.fill(epoch);
  epochs.push({ epoch, loss: 1, accuracy: 0, valLoss: 1, valAccuracy: 0, seconds: 1, samplesPerSecond: 1 });
  writeCheckpoint(
    dir,
    {
      epochsDone: epoch,
      history: { epochs },
      weights: { "dense/kernel": { shape: [2000, 1000], data } },
      optimizer: { step: epoch, slots: {} },
    },
    { fingerprint },
  );
  process.stdout.write(`${epoch}\n`);
}
