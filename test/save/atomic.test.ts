// writeFileAtomic in a folder others can write to (a shared run folder): a link planted under the name of its
// temporary file must be removed, never followed, so the write cannot land in a file outside the folder.
import { lstatSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempFileFor, writeFileAtomic } from "../../src/save/atomic.ts";
import { tempDir } from "../helpers.ts";

test("a link planted at the temporary file's name is not followed: the file it points at is unchanged", () => {
  const root = tempDir("atomic");
  const outside = join(root, "outside.txt");
  writeFileSync(outside, "private\n");
  const target = join(root, "run", "results.json");
  writeFileAtomic(target, "{}\n"); // makes the folder
  symlinkSync(outside, tempFileFor(target));
  writeFileAtomic(target, '{"cells":[]}\n');
  assert.is(readFileSync(outside, "utf8"), "private\n");
  assert.is(readFileSync(target, "utf8"), '{"cells":[]}\n');
  assert.not.ok(lstatSync(target).isSymbolicLink());
});

test("a left-over temporary file of a dead process with this pid is replaced, not appended to", () => {
  const root = tempDir("atomic");
  const target = join(root, "model.json");
  writeFileSync(tempFileFor(target), "x".repeat(1000));
  writeFileAtomic(target, "new");
  assert.is(readFileSync(target, "utf8"), "new");
});

test.run();
