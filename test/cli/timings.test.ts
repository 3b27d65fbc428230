// nnc train --timings: the breakdown of a run's wall time by phase, printed after the run and only when asked.
import { fileURLToPath } from "node:url";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { tempDir } from "../helpers.ts";

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

async function train(...args: string[]): Promise<{ code: number; stderr: string }> {
  const io = memoryIO();
  const argv = ["train", repo("specs/mnist-bn.nn"), "--limit", "600", "--batch", "64", "--epochs", "2"];
  const code = await run([...argv, "--backend", "cpu", "--out", join(tempDir("phases"), "run"), ...args], io);
  return { code, stderr: io.stderr() };
}

const PHASES = ["start-up", "data", "training", "statistics", "evaluation", "saving", "other", "total"];

const timings = suite("nnc train --timings");

timings("prints every phase once, after the run, and they add up to the total", async () => {
  const r = await train("--timings");
  assert.is(r.code, 0, r.stderr);
  const header = "timings (wall time in seconds):";
  const report = r.stderr.slice(r.stderr.indexOf(header));
  assert.ok(r.stderr.indexOf("saved to") < r.stderr.indexOf(header), "after the run's own lines");
  const rows = new Map(
    [...report.matchAll(/^ {2}([a-z-]+) +(\d+\.\d\d)/gm)].map((m) => [m[1]!, Number(m[2])] as const),
  );
  assert.equal([...rows.keys()], PHASES);
  const parts = PHASES.slice(0, -1).reduce((sum, phase) => sum + rows.get(phase)!, 0);
  // Each row is rounded to 0.01 s; `other` is what the named phases leave of the total.
  assert.ok(Math.abs(parts - rows.get("total")!) <= 0.05, `${parts} against ${rows.get("total")}`);
  assert.ok(rows.get("training")! > 0, "the steps took time");
  assert.match(report, /start-up +\d+\.\d\d {2}\(node and nnc's modules \d+\.\d\d, spec \d+\.\d\d, backend/);
  const first = Number(/the first step ended (\d+\.\d\d) s after the process started/.exec(report)?.[1]);
  // The first step ends after everything before training began, and before the run's end.
  assert.ok(first >= rows.get("start-up")! + rows.get("data")! - 0.02 && first <= rows.get("total")!, report);
});

timings("a watched run says how much of the training time its recordings took", async () => {
  const dir = tempDir("phases-watch");
  const spec = join(dir, "watched.nn");
  writeFileSync(
    spec,
    "model m {\n  input 28x28\n  flatten\n  dense 32\n  batchnorm\n  sigmoid name=act\n  dense 10 softmax\n}\n" +
      "train {\n  data mnist limit=600\n  batch 64\n  epochs 1\n  watch act every=1\n}\n",
  );
  const io = memoryIO();
  const code = await run(["train", spec, "--backend", "cpu", "--out", join(dir, "run"), "--timings"], io);
  assert.is(code, 0, io.stderr());
  const report = io.stderr();
  const training = Number(/^ {2}training +(\d+\.\d\d)/m.exec(report)?.[1]);
  const watch = Number(/; (\d+\.\d\d) s of it recording watch/.exec(report)?.[1]);
  assert.ok(watch > 0 && watch < training, report);
  // Without watch, no such words.
  assert.not.match((await train("--timings")).stderr, "recording watch");
});

timings("prints nothing of it unless asked", async () => {
  const r = await train();
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /timings \(wall time|first step/);
});

timings.run();
