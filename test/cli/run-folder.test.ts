// nnc train's --out folder as runs share, kill and fill it (src/save/run-folder.ts): one run at a time (a lock
// with the pid, a dead run's lock taken over), other people's files refused without --force, --force removing
// the old run before the new one writes, no empty folders from failed starts, stale temporary files removed,
// a diverged run saving its last good epoch, and a full disk while checkpointing named (E642) with the last
// checkpoint intact. Real processes where it matters (a second run, SIGKILL, SIGTERM); a tiny MLP on slices
// of the embedded digits keeps each training run to a second or two.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { claimOutDir } from "../../src/cli/commands/train.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { setOpenTemp } from "../../src/save/atomic.ts";
import { LOCK_FILE } from "../../src/save/run-folder.ts";
import { tempDir } from "../helpers.ts";

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const tmp = tempDir("run-folder");
const spec = join(tmp, "tiny.nn");
writeFileSync(
  spec,
  "input 28x28\nflatten\ndense 16 relu\ndense 10 softmax\n" +
    "train {\n  data mnist\n  optimizer sgd lr=0.05\n  batch 64\n  epochs 2\n}\n",
);
const cpu = ["--backend", "cpu", "--threads", "1"];
/** `nnc train tiny.nn --out DIR ...`, in this process. */
const train = (dir: string, ...args: string[]) => nnc("train", spec, "--out", dir, ...cpu, ...args);

/** `nnc train tiny.nn --out DIR ...` as its own process (node bin/nnc.js: killing it kills the run itself). */
function trainProcess(dir: string, ...args: string[]): ChildProcess & { stderrText: () => string } {
  return trainProcessOf(spec, dir, ...args);
}

function trainProcessOf(
  specFile: string,
  dir: string,
  ...args: string[]
): ChildProcess & { stderrText: () => string } {
  const child = spawn(
    process.execPath,
    [repo("bin/nnc.js"), "train", specFile, "--out", dir, ...cpu, ...args],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return Object.assign(child, { stderrText: () => stderr });
}

/** Resolves once `ready()` holds; fails if the process ends first (it was to be caught mid-run). */
async function until(ready: () => boolean, child: ChildProcess & { stderrText: () => string }, what: string) {
  while (!ready()) {
    if (child.exitCode !== null || child.signalCode !== null)
      assert.unreachable(`the run ended (${child.exitCode}) before ${what}:\n${child.stderrText()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once("exit", (code, signal) => resolve({ code, signal }));
  });

const lockPid = (dir: string): number | undefined => {
  try {
    return (JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")) as { pid: number }).pid;
  } catch {
    return undefined;
  }
};
const tempFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".tmp"));
const has = (dir: string, file: string) => existsSync(join(dir, file));
const MODEL = ["ir.json", "model.json", "weights.bin", "history.json", "manifest.json"];

/** Pids of runs this file killed: dead processes, for the left-overs a killed run leaves. */
const deadPids: number[] = [];

const shared = suite("a run folder shared by processes");

shared(
  "a second run is refused (E640) while the first lives; killed after its first checkpoint, the folder holds no mix, and the next run takes it over",
  async () => {
    const dir = join(tmp, "shared");
    const old = await train(dir, "--limit", "300", "--epochs", "1");
    assert.is(old.code, 0, old.stderr);

    // --force over the old run, in another process, killed once its first checkpoint is written.
    const child = trainProcess(dir, "--force", "--limit", "3000", "--epochs", "20");
    await until(() => lockPid(dir) === child.pid, child, "it locked the folder");
    for (const flags of [[], ["--force"], ["--resume"]]) {
      const second = await train(dir, "--limit", "300", "--epochs", "1", ...flags);
      assert.is(second.code, 1, second.stderr);
      assert.match(
        second.stderr,
        `error[E640]: ${dir} is in use by another run (nnc train ${spec}, pid ${child.pid}`,
      );
    }
    // Its own checkpoint, not the old run's on its way out: the header records this run's --limit.
    const newCheckpoint = () => {
      try {
        return readFileSync(join(dir, "checkpoint.ckpt")).includes('"limit":3000');
      } catch {
        return false;
      }
    };
    await until(newCheckpoint, child, "its first checkpoint");
    // The old model is gone before the new run writes: eval says the run is on, not the old model's score.
    const busy = await nnc("eval", dir, "--backend", "cpu");
    assert.is(busy.code, 1);
    assert.match(busy.stderr, `its run is still training (nnc train ${spec}, pid ${child.pid}`);
    child.kill("SIGKILL");
    await exited(child);
    deadPids.push(child.pid!);

    // The old model went before the new run wrote anything: eval refuses rather than scoring it, and says how on.
    assert.equal(
      MODEL.filter((f) => has(dir, f)),
      [],
    );
    const unfinished = await nnc("eval", dir, "--backend", "cpu");
    assert.is(unfinished.code, 1);
    assert.match(unfinished.stderr, "error[E603]");
    assert.match(
      unfinished.stderr,
      "it holds a checkpoint (checkpoint.ckpt) but no saved model",
      unfinished.stderr,
    );
    assert.match(unfinished.stderr, `help: continue the run: nnc train ${spec} --resume --out ${dir}`);

    // What SIGKILL leaves: its lock (stale now) and temporary files of writes it never finished.
    assert.is(lockPid(dir), child.pid);
    for (const f of [`.weights.bin.${child.pid}.tmp`, `.checkpoint.ckpt.${child.pid}.tmp`])
      writeFileSync(join(dir, f), "half a write");
    const resumed = await train(dir, "--resume", "--limit", "3000", "--epochs", "2");
    assert.is(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, "resuming");
    assert.not.ok(has(dir, LOCK_FILE), "the lock goes with the run");
    assert.equal(tempFiles(dir), []);
    const scored = await nnc("eval", dir, "--backend", "cpu", "--json");
    assert.is(scored.code, 0, scored.stderr);
  },
);

shared("a run stopped (SIGTERM) before its first epoch removes the folder it made", async () => {
  const dir = join(tmp, "terminated");
  // A first epoch of tens of seconds on the cpu backend (dense 2048 over 3,000 images), so the signal comes before
  // it ends however loaded the machine is: the tiny spec's took 0.3 s, and a starved test sometimes sent it late.
  const slow = join(tmp, "slow.nn");
  writeFileSync(slow, readFileSync(spec, "utf8").replace("dense 16 relu", "dense 2048 relu"));
  const child = trainProcessOf(slow, dir, "--limit", "3000", "--epochs", "1");
  await until(() => lockPid(dir) === child.pid, child, "it locked the folder");
  child.kill("SIGTERM");
  const end = await exited(child);
  deadPids.push(child.pid!);
  assert.is(end.code, 143, child.stderrText());
  assert.match(child.stderrText(), "terminated (SIGTERM) before the first epoch finished: nothing to resume");
  assert.not.ok(existsSync(dir));
});

shared("a folder that a killed run left before its first epoch is free for the next run", async () => {
  assert.ok(deadPids.length > 0);
  const left = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    const lock = { pid: deadPids[0], host: hostname(), command: `nnc train ${spec}`, startedAt: "then" };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(lock));
    writeFileSync(join(dir, `.checkpoint.ckpt.${deadPids[0]}.tmp`), "");
  };
  // --out: trained into without --force.
  const dir = join(tmp, "left");
  left(dir);
  const r = await train(dir, "--limit", "300", "--epochs", "1");
  assert.is(r.code, 0, r.stderr);
  assert.ok(MODEL.every((f) => has(dir, f)));
  assert.equal(tempFiles(dir), []);
  // The default runs/<spec>-N: taken again rather than numbered past.
  const runs = join(tmp, "runs");
  left(join(runs, "x"));
  const claimed = claimOutDir("specs/x.nn", "x", false, {}, runs);
  assert.equal([claimed.dir, claimed.fresh], [join(runs, "x"), true]);
  assert.is(lockPid(claimed.dir), process.pid);
  claimed.abandon();
  assert.not.ok(existsSync(join(runs, "x")), "given back empty, it is removed");
});

const others = suite("a run folder holding other files");

others(
  "refused without --force (E641); --force replaces nnc's own file names and keeps the rest",
  async () => {
    const dir = join(tmp, "someone-elses");
    mkdirSync(dir);
    writeFileSync(join(dir, "model.json"), '{"theirs": true}');
    writeFileSync(join(dir, "weights.bin"), "their weights");
    writeFileSync(join(dir, "notes.txt"), "their notes");
    const r = await train(dir, "--limit", "300", "--epochs", "1");
    assert.is(r.code, 1);
    assert.match(
      r.stderr,
      `error[E641]: ${dir} is not empty and holds no nnc run (model.json, notes.txt, weights.bin)`,
    );
    assert.is(readFileSync(join(dir, "model.json"), "utf8"), '{"theirs": true}');
    assert.equal(
      readdirSync(dir).sort(),
      ["model.json", "notes.txt", "weights.bin"],
      "nothing written, no lock",
    );

    const forced = await train(dir, "--limit", "300", "--epochs", "1", "--force");
    assert.is(forced.code, 0, forced.stderr);
    assert.is(readFileSync(join(dir, "notes.txt"), "utf8"), "their notes");
    assert.match(readFileSync(join(dir, "model.json"), "utf8"), '"generatedBy": "nnc');
    // An nnc run there now: without --resume or --force it is E606, as before.
    const again = await train(dir, "--limit", "300", "--epochs", "1");
    assert.match(again.stderr, "error[E606]");
  },
);

const diverged = suite("a run whose loss diverges");

diverged("at epoch 1: nothing is saved, it says so, and the folder it made is removed", async () => {
  const dir = join(tmp, "nan-first");
  const r = await train(dir, "--limit", "64", "--batch", "32", "--lr", "1e30");
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E601\]: loss became NaN at epoch 1, step \d+: .*no epoch had finished/);
  assert.match(r.stderr, "help: nothing was saved: no epoch finished before the loss diverged");
  assert.not.match(r.stderr, "last checkpoint");
  assert.not.ok(existsSync(dir));
});

diverged(
  "after a checkpoint: the last good epoch's model is saved and evaluates, and --resume takes a lower --lr",
  async () => {
    const dir = join(tmp, "nan-later");
    // Two steps an epoch: plain SGD at this rate diverges within a few steps, after the first epoch.
    const r = await train(dir, "--limit", "64", "--batch", "32", "--lr", "3e7", "--epochs", "8");
    assert.is(r.code, 1);
    const stop = /error\[E601\]: loss became \w+ at epoch (\d+)/.exec(r.stderr);
    assert.ok(stop, r.stderr);
    const epoch = Number(stop![1]);
    assert.ok(epoch >= 2, `diverged at epoch ${epoch}, expected after the first`);
    assert.match(
      r.stderr,
      `help: the model of epoch ${epoch - 1}, the last finished one, is saved in ${dir}`,
    );
    assert.match(r.stderr, `nnc train ${spec} --resume --out ${dir} --lr 3000000`);
    const history = JSON.parse(readFileSync(join(dir, "history.json"), "utf8"));
    assert.is(history.epochs.length, epoch - 1);
    assert.match(history.notes.join("\n"), `the model saved is epoch ${epoch - 1}'s, the last finished one`);
    const scored = await nnc("eval", dir, "--backend", "cpu", "--json");
    assert.is(scored.code, 0, scored.stderr);
    assert.ok(Number.isFinite(JSON.parse(scored.stdout).loss));

    // One more epoch, the one that diverged, at a lower rate; a higher one is refused.
    const resume = (lr: string) =>
      train(dir, "--resume", "--limit", "64", "--batch", "32", "--epochs", String(epoch), "--lr", lr);
    const higher = await resume("1e8");
    assert.is(higher.code, 1);
    assert.match(higher.stderr, /error\[E602\].*optimizer/);
    const lower = await resume("0.05");
    assert.is(lower.code, 0, lower.stderr);
    assert.match(lower.stderr, `resuming ${dir} after epoch ${epoch - 1} of ${epoch}`);
    const resumed = JSON.parse(readFileSync(join(dir, "history.json"), "utf8"));
    assert.is(resumed.epochs.length, epoch);
    assert.match(
      resumed.notes.join("\n"),
      `learning rate 0.05 from epoch ${epoch} on (lowered from 30000000`,
    );
  },
);

const full = suite("a full disk");
full.after(() => setOpenTemp(undefined));

/** Sends the writes of the n-th temporary file named like `file` to /dev/full, whose writes fail ENOSPC. */
function fillDiskAt(file: string, n: number) {
  let seen = 0;
  setOpenTemp((temp) => {
    if (basename(temp).startsWith(`.${file}.`) && ++seen === n) return openSync("/dev/full", "w");
    return openSync(temp, "w");
  });
}

const devFull = existsSync("/dev/full");
if (!devFull) console.log("note: no /dev/full here: the full-disk tests do nothing");

full(
  "while writing a checkpoint: E642, the last good checkpoint intact, --resume goes on from it",
  async () => {
    if (!devFull) return;
    const dir = join(tmp, "full-ckpt");
    fillDiskAt("checkpoint.ckpt", 2);
    const r = await train(dir, "--limit", "300", "--epochs", "3");
    setOpenTemp(undefined);
    assert.is(r.code, 1);
    assert.match(
      r.stderr,
      `error[E642]: the checkpoint of epoch 2 could not be written to ${dir}: no space left on the device ` +
        `(ENOSPC); the checkpoint of epoch 1 in ${dir} is intact (read back just now)`,
    );
    assert.match(
      r.stderr,
      `help: free some space, then continue from epoch 1: nnc train ${spec} --resume --out ${dir}`,
    );
    assert.equal(tempFiles(dir), []);
    assert.not.ok(has(dir, LOCK_FILE));
    const resumed = await train(dir, "--resume", "--limit", "300", "--epochs", "3");
    assert.is(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, `resuming ${dir} after epoch 1 of 3`);
  },
);

full("at the first checkpoint: E642 says there is none, and the folder it made is removed", async () => {
  if (!devFull) return;
  const dir = join(tmp, "full-first");
  fillDiskAt("checkpoint.ckpt", 1);
  const r = await train(dir, "--limit", "300", "--epochs", "1");
  setOpenTemp(undefined);
  assert.match(r.stderr, `error[E642]: the checkpoint of epoch 1 could not be written to ${dir}`);
  assert.match(r.stderr, "there is no earlier checkpoint");
  assert.not.ok(existsSync(dir));
});

full("while saving the model: E643, and --resume writes the model from the intact checkpoint", async () => {
  if (!devFull) return;
  const dir = join(tmp, "full-save");
  fillDiskAt("weights.bin", 1);
  const r = await train(dir, "--limit", "300", "--epochs", "1");
  setOpenTemp(undefined);
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    `error[E643]: the trained model could not be saved to ${dir}: no space left on the device (ENOSPC); ` +
      `the checkpoint of epoch 1 in ${dir} is intact`,
  );
  const resumed = await train(dir, "--resume", "--limit", "300", "--epochs", "1");
  assert.is(resumed.code, 0, resumed.stderr);
  assert.ok(MODEL.every((f) => has(dir, f)));
  assert.equal(tempFiles(dir), []);
});

const experiments = suite("nnc experiment run folders");

experiments("are locked like train's, and stale temporary files in them are removed", async () => {
  const dir = join(tmp, "experiment");
  const file = join(tmp, "study.nn");
  writeFileSync(
    file,
    "model plain { input 28x28; flatten; dense 8 relu; dense 10 softmax }\n" +
      "train {\n  data mnist limit=64\n  batch 32\n  epochs 1\n}\n" +
      "experiment one { compare plain }\n",
  );
  // A live process (not an nnc run: any live pid holds a lock) owns the folder.
  const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  mkdirSync(dir);
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({ pid: holder.pid, host: hostname(), command: "nnc experiment", startedAt: "now" }),
  );
  const experiment = () => nnc("experiment", file, "--out", dir, "--jobs", "1", "--backend", "cpu");
  const busy = await experiment();
  holder.kill("SIGKILL");
  await exited(holder);
  assert.is(busy.code, 1);
  assert.match(
    busy.stderr,
    `error[E640]: ${dir} is in use by another run (nnc experiment, pid ${holder.pid}`,
  );
  writeFileSync(join(dir, `.results.json.${holder.pid}.tmp`), "");
  const r = await experiment();
  assert.is(r.code, 0, r.stderr);
  assert.ok(has(dir, "results.json"));
  assert.equal(tempFiles(dir), []);
  assert.not.ok(has(dir, LOCK_FILE));
});

shared.run();
others.run();
diverged.run();
full.run();
experiments.run();
