// Test helper, run as a child process by checkpoint.test.ts: rewrites a large checkpoint in a loop, printing
// the epoch of each completed write, until it is killed — to show a kill mid-write leaves a valid checkpoint.
import { writeCheckpoint } from "../../src/save/index.ts";

const dir = process.argv[2]!;
const fingerprint = { sha256: "0".repeat(64), parts: {} };
// 8 MB of weights: a write takes long enough that a kill often lands inside one.
const data = new Float32Array(2_000_000);
for (let epoch = 1; ; epoch++) {
  data.fill(epoch);
  writeCheckpoint(
    dir,
    {
      epochsDone: epoch,
      history: { epochs: [] },
      weights: { "dense/kernel": { shape: [2000, 1000], data } },
      optimizer: { step: epoch, slots: {} },
    },
    { fingerprint },
  );
  process.stdout.write(`${epoch}\n`);
}
