// results.json is read back for --resume, and a run folder may be shared: what stands under that name must be
// a regular file of the folder of sane size, else E602 before anything is read (a FIFO would block for ever,
// a link could show another file's bytes in the message, a file of gigabytes would fill memory).
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readResults, RESULTS_FILE } from "../../src/experiment/results.ts";
import { failsWith, tempDir } from "../helpers.ts";

const runDir = (): string => {
  const dir = join(tempDir("results-read"), "run");
  mkdirSync(dir);
  return dir;
};

test("results.json that is a FIFO is E602 at once, not a read that blocks", async () => {
  const dir = runDir();
  execFileSync("mkfifo", [join(dir, RESULTS_FILE)]);
  const d = await failsWith("E602", () => readResults(dir));
  assert.match(d.message, /named pipe/);
});

test("results.json that links out of the run folder is E602 and the linked file's text is not shown", async () => {
  const root = tempDir("results-read");
  const dir = join(root, "run");
  mkdirSync(dir);
  writeFileSync(join(root, "secret.txt"), "password=hunter2");
  symlinkSync(join(root, "secret.txt"), join(dir, RESULTS_FILE));
  const d = await failsWith("E602", () => readResults(dir));
  assert.match(d.message, /outside|link/);
  assert.not.match(d.message, /hunter2/);
});

test("results.json of gigabytes is E602 by its size, before it is read", async () => {
  const dir = runDir();
  const file = join(dir, RESULTS_FILE);
  writeFileSync(file, "");
  truncateSync(file, 3 * 1024 ** 3); // sparse: 3 GiB long, no blocks on disk
  const d = await failsWith("E602", () => readResults(dir));
  assert.match(d.message, /3\.0 GiB/);
});

test("control characters of a damaged results.json do not reach the terminal", async () => {
  const dir = runDir();
  writeFileSync(join(dir, RESULTS_FILE), "\u001b[2J\u009b not json"); // JSON.parse quotes the text in its message
  const d = await failsWith("E602", () => readResults(dir));
  assert.not.match(d.message, /[\u0000-\u001f\u007f-\u009f]/);
});

test.run();
