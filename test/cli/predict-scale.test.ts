// nnc predict / eval on a model trained on image bytes: `--input` takes raw samples and divides them by the
// folder's input scale, and the batch-norm-folded inference/ export is a model folder predict and eval load,
// with the trainable folder's predictions.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { loadDataset } from "../../src/data/index.ts";
import { writeIdxFolder } from "../data/helpers.ts";
import { tempDir } from "../helpers.ts";

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

interface Row {
  index: number;
  predicted: number;
  probabilities: number[];
}

const maxDiff = (a: Row[], b: Row[]) => {
  assert.is(a.length, b.length);
  return Math.max(
    ...a.flatMap((r, i) => r.probabilities.map((p, k) => Math.abs(p - b[i]!.probabilities[k]!))),
  );
};

const tmp = tempDir("predict-scale");
const data = writeIdxFolder(join(tmp, "data"), { train: 120, test: 30, shape: [8, 8] });
const out = join(tmp, "run");
const cpu = ["--backend", "cpu"];

const predict = suite("predict and eval of a model trained on bytes");
predict.before(async () => {
  const spec = join(tmp, "m.nn");
  writeFileSync(
    spec,
    "input 8x8\nflatten\ndense 16\nbatchnorm\nrelu\ndense 10 softmax\n" +
      `train {\n  data idx:${data}\n  batch 32\n  epochs 2\n}\n`,
  );
  const r = await nnc("train", spec, "--out", out, ...cpu);
  assert.is(r.code, 0, r.stderr);
});
// Only this file's folder: removeTempDirs would also take folders other test files made at import.
predict.after(() => rmSync(tmp, { recursive: true, force: true }));

predict("--input takes raw bytes: the same figures as the data source's own (scaled) samples", async () => {
  const { validation } = await loadDataset({ source: `idx:${data}` });
  const samples = Array.from({ length: validation.count }, (_, i) =>
    Array.from(validation.x.subarray(i * 64, (i + 1) * 64)),
  );
  assert.ok(
    samples.flat().some((v) => v > 1),
    "the samples are bytes",
  );
  const file = join(tmp, "raw.json");
  writeFileSync(file, JSON.stringify(samples));
  const fromFile = await nnc("predict", out, "--input", file, "--json", ...cpu);
  assert.is(fromFile.code, 0, fromFile.stderr);
  const all = String(validation.count);
  const fromData = await nnc("predict", out, "--data", `idx:${data}`, "--limit", all, "--json", ...cpu);
  assert.is(fromData.code, 0, fromData.stderr);
  const a = JSON.parse(fromFile.stdout) as Row[];
  const b = JSON.parse(fromData.stdout) as Row[];
  assert.is(a.length, 30, "every sample of the file (the default of 10 is for held-out samples)");
  assert.is(maxDiff(a, b), 0, "the same division, the same rounding");
  // Said on stderr where the output is for people.
  const text = await nnc("predict", out, "--input", file, "--limit", "1", ...cpu);
  assert.match(
    text.stderr,
    /note: .*raw\.json is read as raw values .* divided by 255, the model's input scale/,
  );
});

predict("predict and eval load inference/ and give the trainable folder's figures", async () => {
  const inference = join(out, "inference");
  const p1 = await nnc("predict", out, "--data", `idx:${data}`, "--json", ...cpu);
  const p2 = await nnc("predict", inference, "--data", `idx:${data}`, "--json", ...cpu);
  assert.is(p2.code, 0, p2.stderr);
  const diff = maxDiff(JSON.parse(p1.stdout) as Row[], JSON.parse(p2.stdout) as Row[]);
  assert.ok(diff < 1e-5, `max |difference| ${diff}`);
  const e1 = JSON.parse((await nnc("eval", out, "--data", `idx:${data}`, "--json", ...cpu)).stdout);
  const e2 = await nnc("eval", inference, "--data", `idx:${data}`, "--json", ...cpu);
  assert.is(e2.code, 0, e2.stderr);
  const r2 = JSON.parse(e2.stdout);
  assert.is(r2.accuracy, e1.accuracy);
  assert.ok(Math.abs(r2.loss - e1.loss) < 1e-5, `${r2.loss} vs ${e1.loss}`);
  // The folded program has no batchnorm.
  const ir = JSON.parse(readFileSync(join(inference, "ir.json"), "utf8"));
  assert.not.ok(ir.models[0].layers.some((l: { op: string }) => l.op === "batchnorm"));
});

predict("an inference/ saved without ir.json (before it was written) says which folder to load", async () => {
  const old = join(tmp, "old");
  mkdirSync(join(old, "inference"), { recursive: true });
  for (const f of ["model.json", "weights.bin", "ir.json"])
    writeFileSync(join(old, f), readFileSync(join(out, f)));
  for (const f of ["model.json", "weights.bin"])
    writeFileSync(join(old, "inference", f), readFileSync(join(out, "inference", f)));
  const r = await nnc("predict", join(old, "inference"), "--limit", "1", ...cpu);
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    /error\[E603\]: .*inference: this inference export has no ir\.json .*load the model folder above it, .*old, which predicts the same/,
  );
  rmSync(old, { recursive: true });
});

predict.run();
