// The command line's --epochs and --lr are what schedules, early stopping and weight decay are checked at
// (src/cli/check-overrides.ts): `nnc train --epochs 2` under a 2-epoch warm-up is E336, a spec's own warning about
// its epoch count is not shown for a run of another, and `nnc experiment --epochs` checks every cell at it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { tempDir } from "../helpers.ts";

// The input does not fit mnist (E507): a run the checks let through stops at the data, before training.
const spec = (train: string, rest = "") => `input 4
dense 3 softmax

train {
  data mnist limit=64
  ${train}
}
${rest}`;

async function nnc(text: string, ...args: string[]) {
  const dir = tempDir("cli-checks");
  const file = join(dir, "p.nn");
  writeFileSync(file, text);
  const io = memoryIO();
  const command = args[0]!;
  const code = await run(
    [command, file, ...args.slice(1), "--backend", "cpu", "--out", join(dir, "out")],
    io,
  );
  return { code, stderr: io.stderr() };
}

const C = suite("checks at the command line's --epochs and --lr");

C("nnc train --epochs: E336 for a warm-up as long as it, and W413 at its epoch count", async () => {
  const text = spec("adam lr=0.01\n  epochs 4\n  schedule cosine warmup=2\n  early_stop patience=2");
  const r = await nnc(text, "train", "--epochs", "2");
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    "error[E336]: a warm-up of 2 epochs takes the whole run of 2, with --epochs 2 on the command line",
  );
  assert.match(r.stderr, /warning\[W413\].*with --epochs 2 on the command line.*the run has 2/);
  assert.not.match(r.stderr, "E507", "refused before the data");
});

C("nnc train --epochs: the spec's own warnings and errors about its epoch count are not shown", async () => {
  const text = spec(
    "adam lr=0.01\n  epochs 2\n  schedule plateau patience=1 warmup=2\n  early_stop patience=2",
  );
  const own = await nnc(text, "train");
  assert.match(own.stderr, "E336");
  assert.match(own.stderr, "W413");
  const longer = await nnc(text, "train", "--epochs", "9");
  assert.not.match(longer.stderr, /E336|W413|W414/);
  assert.match(longer.stderr, "E507", "the run went on to the data");
});

C("nnc train --lr: E331 at the command line's rate", async () => {
  const r = await nnc(spec("adamw lr=0.01 weight_decay=5\n  epochs 2"), "train", "--lr", "0.3");
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E331\]: weight_decay=5 at lr=0.3 .*, with --lr 0.3 on the command line/);
  const fine = await nnc(spec("adamw lr=0.3 weight_decay=5\n  epochs 2"), "train", "--lr", "0.01");
  assert.not.match(fine.stderr, "E331");
});

C("nnc experiment --epochs: every cell is checked at it", async () => {
  const text = spec(
    "adam lr=0.01\n  epochs 4\n  schedule cosine warmup=2",
    "experiment e {\n  vary lr 0.1 0.01\n}\n",
  );
  const r = await nnc(text, "experiment", "--epochs", "2");
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    "error[E336]: a warm-up of 2 epochs takes the whole run of 2, in experiment 'e', with --epochs 2 on the command line",
  );
});

C.run();
