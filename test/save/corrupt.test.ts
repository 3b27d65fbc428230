// Damaged or hand-edited files that once ended in an internal error (exit 70), a bare TypeError from the API, or
// a run that went on silently: each is now a named error (or, for NaN weights, a named warning and NaN shown as
// NaN). The files are made at test time from a real tiny run.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { load } from "../../src/api.ts";
import { loadDataset } from "../../src/data/index.ts";
import type { Diagnostic } from "../../src/diagnostics/diagnostic.ts";
import { readCheckpoint, type Fingerprint } from "../../src/save/index.ts";
import { Random } from "../../src/util/random.ts";
import { writeIdxFolder } from "../data/helpers.ts";
import { failsWith, tempDir } from "../helpers.ts";
import {
  copyRun,
  editCheckpointHeader,
  editJson,
  joinCheckpoint,
  nnc,
  splitCheckpoint,
  trainTinyRun,
  type TinyRun,
} from "./hostile-folders.ts";

const root = tempDir("corrupt");
let base: TinyRun;
let cases = 0;
const copy = (): string => copyRun(base.out, join(root, `case-${++cases}`));

/** The fingerprint `nnc train tiny.nn` computed for the run (what --resume checks a checkpoint against). */
const fingerprint = (): Fingerprint =>
  splitCheckpoint(readFileSync(join(base.out, "checkpoint.ckpt"))).header.fingerprint;

const resume = (dir: string) =>
  nnc("train", base.spec, "--out", dir, "--resume", "--epochs", "2", "--backend", "cpu", "--threads", "1");

const Corrupt = suite("corrupt model folders and checkpoints: named errors");
Corrupt.before(async () => {
  base = await trainTinyRun(join(root, "base"));
});

Corrupt("a weights.bin or checkpoint.ckpt that is a directory is E012", async () => {
  const dir = copy();
  rmSync(join(dir, "weights.bin"));
  mkdirSync(join(dir, "weights.bin"));
  const d = await failsWith("E012", () => load(dir, { backend: "cpu" }));
  assert.is(d.message, `${join(dir, "weights.bin")} is a directory, not a regular file`);
  rmSync(join(dir, "checkpoint.ckpt"));
  mkdirSync(join(dir, "checkpoint.ckpt"));
  const c = await failsWith("E012", () => readCheckpoint(dir, fingerprint()));
  assert.match(c.help ?? "", "train from scratch instead");
  const r = await resume(dir);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, "error[E012]");
});

/** The checkpoint of a copy of the run, its header edited with a valid checksum; the error readCheckpoint gives. */
async function editedCheckpoint(code: string, edit: (header: any) => void): Promise<Diagnostic> {
  const dir = copy();
  editCheckpointHeader(join(dir, "checkpoint.ckpt"), edit);
  const d = await failsWith(code as "E016", () => readCheckpoint(dir, fingerprint()));
  const r = await resume(dir);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, `error[${code}]`);
  return d;
}

Corrupt("a checkpoint header that breaks its schema is E016 naming the place", async () => {
  let d = await editedCheckpoint("E016", (h) => (h.history = null));
  assert.match(d.message, "checkpoint.ckpt: history: must be object");
  d = await editedCheckpoint("E016", (h) => (h.epochsDone = -3));
  assert.match(d.message, "epochsDone: must be >= 0");
  d = await editedCheckpoint("E016", (h) => (h.epochsDone = "two"));
  assert.match(d.message, "epochsDone: must be integer");
  d = await editedCheckpoint("E016", (h) => (h.weights[0].shape = [1.5]));
  assert.match(d.message, "weights.0.shape.0: must be integer");
  d = await editedCheckpoint("E016", (h) => (h.surprise = true));
  assert.match(d.message, "unknown property 'surprise'");
});

Corrupt("a checkpoint that does not fit the model or its own history is E017", async () => {
  let d = await editedCheckpoint("E017", (h) => (h.weights[0].name = "dense/kernel_renamed"));
  assert.match(d.message, `holds a weight "dense/kernel_renamed", which the model does not have`);
  d = await editedCheckpoint("E017", (h) => (h.epochsDone = 3));
  assert.match(d.message, "it says 3 epochs are done, but its history holds 1");
  d = await editedCheckpoint("E017", (h) => (h.slots[0].name = "nothing/m"));
  assert.match(d.message, `its optimizer slot "nothing/m" belongs to no weight of the model`);
});

Corrupt(
  "a checkpoint without a slot the optimizer needs is E017 when resuming, not an internal error",
  async () => {
    const dir = copy();
    const file = join(dir, "checkpoint.ckpt");
    const { header, rest } = splitCheckpoint(readFileSync(file));
    // Drop the last slot and its bytes, and give the blob its new checksum: a whole, consistent file.
    const last = header.slots.pop();
    const bytes = 4 * last.shape.reduce((a: number, b: number) => a * b, 1);
    const blob = rest.subarray(0, rest.byteLength - bytes);
    const { createHash } = await import("node:crypto");
    header.blobSha256 = createHash("sha256").update(blob).digest("hex");
    writeFileSync(file, joinCheckpoint(header, blob));
    const r = await resume(dir);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, `error[E017]: the checkpoint: it lacks the optimizer slot ${last.name}`);
  },
);

Corrupt("a checkpoint cut short or grown is E013, its header length past the bound E014", async () => {
  const dir = copy();
  const file = join(dir, "checkpoint.ckpt");
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, bytes.byteLength - 4));
  let d = await failsWith("E013", () => readCheckpoint(dir, fingerprint()));
  assert.match(
    d.message,
    `holds ${bytes.byteLength - 4} bytes where its header describes ${bytes.byteLength}`,
  );
  writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(8)]));
  await failsWith("E013", () => readCheckpoint(dir, fingerprint()));
  const huge = Buffer.from(bytes);
  huge.writeUInt32LE(0xffffffff, 8);
  writeFileSync(file, huge);
  d = await failsWith("E014", () => readCheckpoint(dir, fingerprint()));
  assert.match(d.message, "its header is 4.0 GiB, over the 64.0 MiB nnc reads");
});

Corrupt(
  "a weightsManifest with paths [1, null] or weights [null] is E016 from load(), not a TypeError",
  async () => {
    for (const [edit, where] of [
      [(m: any) => (m.weightsManifest[0].paths = [1, null]), "weightsManifest.0.paths.0: must be string"],
      [(m: any) => (m.weightsManifest[0].weights = [null]), "weightsManifest.0.weights.0: must be object"],
      [(m: any) => delete m.weightsManifest, "(document): missing 'weightsManifest'"],
      [
        (m: any) => (m.weightsManifest[0].weights[0].shape = [-1]),
        "weightsManifest.0.weights.0.shape.0: must be >= 0",
      ],
    ] as const) {
      const dir = copy();
      editJson(join(dir, "model.json"), edit);
      const d = await failsWith("E016", () => load(dir, { backend: "cpu" }));
      assert.is(d.message, `${join(dir, "model.json")}: ${where}`);
    }
    await failsWith("E603", () => load(42 as unknown as string));
  },
);

Corrupt("weights of NaN: warning W030, predictions shown as NaN, exit 0", async () => {
  const dir = copy();
  const size = statSync(join(dir, "weights.bin")).size;
  writeFileSync(join(dir, "weights.bin"), Buffer.alloc(size, 0xff)); // every float32 0xffffffff is a NaN
  const warnings: Diagnostic[] = [];
  const model = await load(dir, { backend: "cpu", onWarning: (w) => warnings.push(w) });
  model.dispose();
  assert.equal(
    warnings.map((w) => w.code),
    ["W030"],
  );
  assert.match(
    warnings[0]!.message,
    `holds ${size / 4} NaN or infinite weight values (the first in dense/kernel)`,
  );
  const input = join(root, "samples.json");
  writeFileSync(input, JSON.stringify([[1, 2, 3, 4]]));
  const r = await nnc("predict", dir, "--input", input, "--backend", "cpu");
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, "warning[W030]");
  assert.match(r.stdout, "#0  predicted NaN  p=NaN");
  const json = await nnc("predict", dir, "--input", input, "--backend", "cpu", "--json");
  assert.is(JSON.parse(json.stdout)[0].predicted, null);
  const evaluated = await nnc("eval", dir, "--data", `csv:${base.data}`, "--backend", "cpu");
  assert.is(evaluated.code, 0, evaluated.stderr);
  assert.match(evaluated.stdout, "loss NaN");
});

Corrupt("weights of random bytes predict without an internal error", async () => {
  const rng = new Random(12);
  const input = join(root, "samples.json");
  writeFileSync(
    input,
    JSON.stringify([
      [1, 2, 3, 4],
      [0, 0, 0, 0],
    ]),
  );
  for (let k = 0; k < 4; k++) {
    const dir = copy();
    const bytes = Buffer.alloc(statSync(join(dir, "weights.bin")).size);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rng.next() * 256);
    writeFileSync(join(dir, "weights.bin"), bytes);
    const r = await nnc("predict", dir, "--input", input, "--backend", "cpu");
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /#1  predicted (\d|NaN)/);
  }
});

Corrupt("an IDX folder with 0 training (or test) images is E019", async () => {
  const empty = writeIdxFolder(join(root, "idx-empty"), { train: 0, test: 5 });
  const d = await failsWith("E019", () => loadDataset({ source: `idx:${empty}` }));
  assert.match(d.message, "train-images-idx3-ubyte holds 0 images: there is nothing to train or evaluate on");
  const noTest = writeIdxFolder(join(root, "idx-empty-test"), { train: 5, test: 0 });
  // test: 0 writes no test files at all, which is allowed (a validation split is held out instead).
  assert.is((await loadDataset({ source: `idx:${noTest}` })).train.count > 0, true);
  writeIdxFolder(noTest, { train: 5, test: 1 });
  const images = readFileSync(join(noTest, "t10k-images-idx3-ubyte"));
  images.writeUInt32BE(0, 4);
  writeFileSync(join(noTest, "t10k-images-idx3-ubyte"), images.subarray(0, 16));
  const labels = readFileSync(join(noTest, "t10k-labels-idx1-ubyte"));
  labels.writeUInt32BE(0, 4);
  writeFileSync(join(noTest, "t10k-labels-idx1-ubyte"), labels.subarray(0, 8));
  await failsWith("E019", () => loadDataset({ source: `idx:${noTest}` }));
});

Corrupt.run();
