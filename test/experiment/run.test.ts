// Running experiments for real on tiny grids (a 96-sample slice of mnist, 1 epoch): results.json validates
// against its schema and is rewritten after each cell, --resume trains only the missing cells and refuses a
// changed spec, parallel workers give the same histories as one thread, a diverging cell is a result.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { runExperiment, type ExperimentRunOptions } from "../../src/experiment/run-experiment.ts";
import { validateResults, type CellResult, type Results } from "../../src/experiment/results-schema.ts";
import { resultsPath } from "../../src/experiment/results.ts";
import { failsWith, tempDir } from "../helpers.ts";
import { runOptions, specFile, tinySpec } from "./helpers.ts";

const GRID =
  "experiment sizes {\n  compare plain normed\n  vary batch 16 48\n  lr_scale linear ref=16\n  repeat 2\n  target 0.2\n}";

const options = (dir: string, text = tinySpec(GRID), extra: Partial<ExperimentRunOptions> = {}) =>
  runOptions(dir, text, extra);

const readJson = (dir: string) => JSON.parse(readFileSync(resultsPath(dir), "utf8")) as Results;
/** A history without its timings, which differ between any two runs. */
const deterministic = (c: CellResult) => c.history.map(({ seconds: _s, samplesPerSecond: _r, ...e }) => e);

const results = suite("results.json");

let first: Results;
const firstDir = tempDir("results");

results("a run writes results.json that validates against its schema, with every cell", async () => {
  const io = memoryIO();
  const r = await runExperiment(io, options(firstDir));
  first = readJson(join(firstDir, "out"));
  assert.equal(validateResults(first), []);
  assert.is(first.cells.length, 8);
  assert.is(first.totalCells, 8);
  assert.is(r.trained.length, 8);
  assert.is(first.spec.text, tinySpec(GRID));
  assert.match(first.lrRule, "linear");
  const big = first.cells.find((c) => c.varied.batch === 48)!;
  assert.ok(Math.abs(big.lr - 0.003) < 1e-12, `effective lr ${big.lr}`);
  assert.is(big.lrNote, "0.001 x 48/16 (linear)");
  assert.is(big.train.optimizer.lr, big.lr);
  for (const c of first.cells) {
    assert.is(c.history.length, 1);
    assert.is(c.status, "ok");
    assert.ok(c.samplesPerSecond > 0);
    assert.ok(c.epochsToTarget === null || c.epochsToTarget === 1);
    assert.is(c.final.valAccuracy, c.history[0]!.valAccuracy);
  }
  // Non-TTY progress: one line per finished epoch and per finished cell.
  assert.is(io.stderr().match(/epoch 1\/1/g)?.length, 8);
  assert.match(io.stderr(), "cell 8/8 done");
});

results(
  "a cell's training notes are in its result (a final one-sample batch merged for batchnorm only)",
  async () => {
    const dir = tempDir("notes");
    const text = tinySpec(
      "experiment merged {\n  compare plain normed\n}",
      "data mnist limit=97\n  batch 32\n  epochs 1\n  seed 3",
    );
    await runExperiment(memoryIO(), options(dir, text));
    const cells = readJson(join(dir, "out")).cells;
    assert.equal(validateResults(readJson(join(dir, "out"))), []);
    assert.is(cells.find((c) => c.model === "plain")!.notes, undefined);
    assert.match(
      cells.find((c) => c.model === "normed")!.notes?.join() ?? "",
      /last batch .* 1 sample .* merged/,
    );
  },
);

results("the schema rejects what is not results", () => {
  assert.ok(validateResults({}).length > 0);
  const bad = structuredClone(first);
  bad.cells[0]!.lr = -1;
  assert.match(validateResults(bad).join("\n"), "/cells/0/lr");
  const extra = { ...structuredClone(first), surprise: 1 };
  assert.ok(validateResults(extra).length > 0);
});

results("an existing run is not overwritten without --resume or --force", async () => {
  await failsWith("E606", () => runExperiment(memoryIO(), options(firstDir)));
});

const resume = suite("resume");

resume(
  "--resume trains only the cells results.json does not hold, and ends with the same results",
  async () => {
    const dir = tempDir("resume");
    const opts = options(dir);
    // An interrupted run: results.json as it was after three cells.
    const partial = structuredClone(first);
    partial.cells = [first.cells[0]!, first.cells[4]!, first.cells[5]!];
    partial.spec.sha256 = opts.specSha256;
    partial.spec.file = opts.specFile;
    mkdirSync(opts.outDir, { recursive: true });
    writeFileSync(resultsPath(opts.outDir), JSON.stringify(partial));

    const io = memoryIO();
    const r = await runExperiment(io, { ...opts, resume: true });
    assert.equal(
      r.trained.map((c) => c.index),
      [1, 2, 3, 6, 7],
    );
    assert.match(io.stderr(), "3 already finished");
    const after = readJson(opts.outDir);
    assert.equal(validateResults(after), []);
    assert.equal(
      after.cells.map((c) => c.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(
      after.cells.map(deterministic),
      first.cells.map(deterministic),
      "same seeds, same histories",
    );
    // Kept cells are kept as they were, not retrained.
    assert.is(after.cells[0]!.finishedAt, first.cells[0]!.finishedAt);

    const again = await runExperiment(memoryIO(), { ...opts, resume: true });
    assert.is(again.trained.length, 0, "nothing left to train");
  },
);

resume("refused when a compared model changed, or the finished cells had other settings", async () => {
  const dir = tempDir("resume-refused");
  const opts = options(dir);
  await runExperiment(memoryIO(), { ...opts, epochs: 1 });
  // The same names and settings, one layer wider: cell ids alone (model name + settings) would not tell.
  const wider = runOptions(dir, tinySpec(GRID).replace("dense 8 relu", "dense 9 relu"));
  const changed = await failsWith("E602", () =>
    runExperiment(memoryIO(), {
      ...opts,
      program: wider.program,
      specSha256: wider.specSha256,
      resume: true,
    }),
  );
  assert.match(changed.message, "the compared models, train settings or experiment changed");
  const other = await failsWith("E602", () =>
    runExperiment(memoryIO(), { ...opts, limit: 50, resume: true }),
  );
  assert.match(other.message, "other settings");
  await failsWith("E602", () =>
    runExperiment(memoryIO(), { ...opts, outDir: join(dir, "none"), resume: true }),
  );
});

resume(
  "a spec changed only in comments and layout resumes; results without irSha256 compare the text",
  async () => {
    const dir = tempDir("resume-comment");
    const opts = options(dir);
    await runExperiment(memoryIO(), { ...opts, epochs: 1 });
    const commented = runOptions(
      dir,
      `# the same study, annotated\n\n${tinySpec(GRID).replace("dense 8 relu", "dense 8 relu  # hidden")}`,
    );
    assert.is.not(commented.specSha256, opts.specSha256);
    const again = await runExperiment(memoryIO(), { ...commented, epochs: 1, resume: true });
    assert.is(again.trained.length, 0, "every cell kept");

    // A results.json written before irSha256 existed: only the spec's text identifies it.
    const path = resultsPath(join(dir, "out"));
    const old = readJson(join(dir, "out"));
    delete old.spec.irSha256;
    writeFileSync(path, JSON.stringify(old));
    // It was last written by the commented spec's run: the original text is now a different spec.
    const changed = await failsWith("E602", () =>
      runExperiment(memoryIO(), { ...opts, epochs: 1, resume: true }),
    );
    assert.match(changed.message, "the spec changed");
  },
);

const parallel = suite("parallel workers");

parallel("--jobs 2 gives the same histories as --jobs 1", async () => {
  const dir = tempDir("jobs");
  const r = await runExperiment(memoryIO(), { ...options(dir), outDir: join(dir, "two"), jobs: 2 });
  assert.is(r.results.jobs, 2);
  const two = readJson(join(dir, "two"));
  assert.equal(validateResults(two), []);
  assert.equal(
    two.cells.map((c) => c.id),
    first.cells.map((c) => c.id),
  );
  assert.equal(two.cells.map(deterministic), first.cells.map(deterministic));
});

const diverging = suite("diverging cells");

diverging("a cell whose loss becomes non-finite is recorded as diverged; the others still run", async () => {
  const dir = tempDir("diverge");
  const text = tinySpec(
    "experiment rates {\n  compare plain\n  vary lr 0.001 1e30\n}",
    "data mnist limit=96\n  optimizer sgd lr=0.01\n  batch 32\n  epochs 2\n  seed 3",
  );
  const r = await runExperiment(memoryIO(), options(dir, text));
  const [ok, diverged] = r.results.cells;
  assert.is(ok!.status, "ok");
  assert.is(diverged!.status, "diverged");
  assert.match(diverged!.error ?? "", "loss became");
  assert.equal(validateResults(readJson(join(dir, "out"))), []);
  assert.match(readFileSync(join(dir, "out", "report.html"), "utf8"), "1 diverged");
});

const cli = suite("nnc experiment (CLI)");

cli("runs a spec's experiment and writes results, plots and report", async () => {
  const dir = tempDir("cli");
  const spec = specFile(dir, tinySpec(GRID.replace("repeat 2", "repeat 1")));
  const io = memoryIO();
  const code = await run(
    ["experiment", spec.file, "--out", join(dir, "out"), "--jobs", "1", "--limit", "64", "--epochs", "1"],
    io,
  );
  assert.is(code, 0, io.stderr());
  for (const f of [
    "results.json",
    "report.html",
    "val-accuracy.svg",
    "val-accuracy.png",
    "val-loss.svg",
    "val-loss.png",
  ]) {
    assert.ok(existsSync(join(dir, "out", f)), f);
  }
  assert.match(io.stderr(), /normed batch=48\s+final test accuracy/);
  assert.is(readJson(join(dir, "out")).options.limit, 64);
});

cli("no experiment, an unknown one, several without --name", async () => {
  const dir = tempDir("cli-errors");
  const none = specFile(dir, tinySpec(""), "none.nn");
  const two = specFile(
    dir,
    tinySpec("experiment a { compare plain }\nexperiment b { compare normed }"),
    "two.nn",
  );
  const runs = async (...argv: string[]) => {
    const io = memoryIO();
    return { code: await run(["experiment", ...argv, "--out", join(dir, "x")], io), stderr: io.stderr() };
  };
  const r1 = await runs(none.file);
  assert.is(r1.code, 1);
  assert.match(r1.stderr, "error[E630]");
  const r2 = await runs(two.file);
  assert.match(r2.stderr, "error[E632]");
  assert.match(r2.stderr, "(a, b)");
  const r3 = await runs(two.file, "--name", "c");
  assert.match(r3.stderr, "error[E631]");
  const r4 = await runs(two.file, "--jobs", "0");
  assert.is(r4.code, 2);
});

results.run();
resume.run();
parallel.run();
diverging.run();
cli.run();
