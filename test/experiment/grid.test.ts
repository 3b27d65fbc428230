// Grid expansion: cells = models x product of vary lists x repeats, each with its effective train settings
// (file train <- experiment train <- run options <- varied values, then the lr_scale rule).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { diagnostic } from "../../src/diagnostics/index.ts";
import {
  cellId,
  describeLrRule,
  expandGrid,
  gridTooLarge,
  MAX_GRID_CELLS,
  product,
  scaleLr,
} from "../../src/experiment/grid.ts";
import { MAX_SEED } from "../../src/ir/schema.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { failsWith, tempDir } from "../helpers.ts";
import { compileText, specFile, tinySpec } from "./helpers.ts";

const grid = (experiment: string, train?: string, options = {}) => {
  const program = compileText(tinySpec(experiment, train));
  return expandGrid(program, program.experiments[0]!, options);
};

const shape = suite("grid shape");

shape("models x vary lists x repeats, in nested-loop order with seeds seed, seed+1, ...", () => {
  const cells = grid(
    "experiment e { compare plain normed\n vary batch 16 32\n vary lr 0.01 0.1 0.2\n lr_scale none\n repeat 2 }",
  );
  assert.is(cells.length, 2 * 2 * 3 * 2);
  assert.equal(
    cells.slice(0, 4).map((c) => [c.model, c.varied.batch, c.varied.lr, c.seed]),
    [
      ["plain", 16, 0.01, 3],
      ["plain", 16, 0.01, 4],
      ["plain", 16, 0.1, 3],
      ["plain", 16, 0.1, 4],
    ],
  );
  assert.equal(cells.at(-1)!.model, "normed");
  assert.equal(
    cells.map((c) => c.index),
    cells.map((_, i) => i),
  );
  assert.is(new Set(cells.map((c) => c.id)).size, cells.length, "every cell has its own id");
  assert.is(new Set(cells.map((c) => c.group)).size, 2 * 2 * 3, "repeats share a group");
  assert.is(cells[0]!.group, "plain batch=16 lr=0.01");
  assert.equal(
    cells.map((c) => c.train.seed),
    cells.map((c) => c.seed),
  );
});

shape("no vary list: one group per model", () => {
  const cells = grid("experiment e { compare plain normed\n repeat 3 }");
  assert.equal(
    cells.map((c) => [c.group, c.seed]),
    [
      ["plain", 3],
      ["plain", 4],
      ["plain", 5],
      ["normed", 3],
      ["normed", 4],
      ["normed", 5],
    ],
  );
});

shape("product of vary lists", () => {
  assert.equal(product([]), [{}]);
  assert.equal(
    product([
      { key: "batch", values: [1, 2] },
      { key: "optimizer", values: ["sgd", "adam"] },
    ]),
    [
      { batch: 1, optimizer: "sgd" },
      { batch: 1, optimizer: "adam" },
      { batch: 2, optimizer: "sgd" },
      { batch: 2, optimizer: "adam" },
    ],
  );
});

const lr = suite("learning-rate scaling");

lr("linear: lr x b/ref; sqrt: lr x sqrt(b/ref); none: lr", () => {
  const at = (rule: "none" | "linear" | "sqrt") =>
    grid(`experiment e { compare plain\n vary batch 16 64 256\n lr_scale ${rule} ref=64 }`, undefined).map(
      (c) => c.train.optimizer.lr,
    );
  // The tiny spec's train has no optimizer: Adam at Keras' 0.001.
  assert.equal(at("none"), [0.001, 0.001, 0.001]);
  const linear = at("linear");
  assert.ok(
    Math.abs(linear[0]! - 0.00025) < 1e-15 && linear[1] === 0.001 && Math.abs(linear[2]! - 0.004) < 1e-15,
  );
  const sqrt = at("sqrt");
  assert.ok(Math.abs(sqrt[0]! - 0.0005) < 1e-15 && sqrt[1] === 0.001 && Math.abs(sqrt[2]! - 0.002) < 1e-15);
  assert.is(scaleLr(0.1, 128, { rule: "linear", referenceBatch: 32 }), 0.4);
});

lr("the rule scales a varied lr, and the cell says how its lr was made", () => {
  const cells = grid(
    "experiment e { compare plain\n vary batch 32 128\n vary lr 0.01 0.02\n lr_scale linear ref=32 }",
  );
  assert.equal(
    cells.map((c) => [c.train.batch, c.train.optimizer.lr]),
    [
      [32, 0.01],
      [32, 0.02],
      [128, 0.04],
      [128, 0.08],
    ],
  );
  assert.is(cells[0]!.lrNote, "0.01");
  assert.is(cells[3]!.lrNote, "0.02 x 128/32 (linear)");
});

lr("the rule in words", () => {
  const program = compileText(
    tinySpec("experiment e { compare plain\n vary batch 32 128\n lr_scale sqrt ref=32 }"),
  );
  assert.match(describeLrRule(program.experiments[0]!), "lr x sqrt(batch/32)");
});

const settings = suite("effective settings");

settings("file train <- experiment train <- run options <- varied values", () => {
  const cells = grid(
    "experiment e { compare plain\n batch 64\n epochs 4\n vary epochs 2 3 }",
    "data mnist limit=96\n  batch 32\n  epochs 1\n  seed 3\n  bnstats ema",
    { limit: 50 },
  );
  assert.equal(
    cells.map((c) => [c.train.batch, c.train.epochs]),
    [
      [64, 2],
      [64, 3],
    ],
  );
  assert.is(cells[0]!.train.data.limit, 50);
  assert.is(cells[0]!.train.bnstats.mode, "ema");
  const quick = grid("experiment e { compare plain\n epochs 4 }", undefined, { epochs: 1 });
  assert.is(quick[0]!.train.epochs, 1, "--epochs wins over the experiment's epochs");
  assert.not.ok(JSON.stringify(cells[0]!.train).includes('"span"'), "no source spans in settings");
});

settings("vary optimizer: Keras defaults with the train lr", () => {
  const cells = grid(
    "experiment e { compare plain\n vary optimizer sgd rmsprop adam }",
    "data mnist limit=96\n  optimizer adam lr=0.005 beta1=0.5",
  );
  assert.equal(cells[0]!.train.optimizer, { type: "sgd", lr: 0.005, momentum: 0, nesterov: false });
  assert.equal(cells[1]!.train.optimizer, {
    type: "rmsprop",
    lr: 0.005,
    rho: 0.9,
    momentum: 0,
    epsilon: 1e-7,
  });
  assert.equal(cells[2]!.train.optimizer, {
    type: "adam",
    lr: 0.005,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  });
});

settings(
  "init and init_scale set train.init; init_scale alone scales the experiment's (or Glorot's) init",
  () => {
    const both = grid(
      "experiment e { compare plain\n vary init he_normal lecun_uniform\n vary init_scale 0.5 2 }",
    );
    assert.equal(
      both.map((c) => c.train.init),
      [
        { name: "he_normal", scale: 0.5 },
        { name: "he_normal", scale: 2 },
        { name: "lecun_uniform", scale: 0.5 },
        { name: "lecun_uniform", scale: 2 },
      ],
    );
    const scaled = grid("experiment e { compare plain\n init he_uniform\n vary init_scale 0.1 }");
    assert.equal(scaled[0]!.train.init, { name: "he_uniform", scale: 0.1 });
    const glorot = grid("experiment e { compare plain\n vary init_scale 10 }");
    assert.equal(glorot[0]!.train.init, { name: "glorot_uniform", scale: 10 });
    const untouched = grid("experiment e { compare plain\n vary batch 8 }");
    assert.is(untouched[0]!.train.init, undefined);
  },
);

settings("bnstats and seed vary; repeats count up from a varied seed", () => {
  const cells = grid("experiment e { compare normed\n vary bnstats ema exact\n vary seed 10 20\n repeat 2 }");
  assert.equal(
    cells.map((c) => [c.train.bnstats.mode, c.seed]),
    [
      ["ema", 10],
      ["ema", 11],
      ["ema", 20],
      ["ema", 21],
      ["exact", 10],
      ["exact", 11],
      ["exact", 20],
      ["exact", 21],
    ],
  );
});

settings("cell ids follow settings, not key order or spans", () => {
  const [a] = grid("experiment e { compare plain }");
  const train = a!.train;
  const reordered = Object.fromEntries(Object.entries(train).reverse()) as typeof train;
  assert.is(cellId("plain", reordered), a!.id);
  assert.is(cellId("plain", { ...train, data: { ...train.data, span: [1, 2] } }), a!.id);
  assert.is.not(cellId("plain", { ...train, epochs: train.epochs + 1 }), a!.id);
  assert.is.not(cellId("normed", train), a!.id);
  // The grid hashes its (span-free) settings without copying them first: the same ids as cellId.
  const cells = grid(
    "experiment e { compare plain normed\n vary batch 16 32\n vary init_scale 0.5 1\n repeat 2 }",
  );
  for (const cell of cells) assert.is(cell.id, cellId(cell.model, cell.train));
});

const distinct = suite("distinct cells");

distinct("vary seed with repeat repeats seeds: E634 names the two cells and why", async () => {
  const d = await failsWith("E634", () => grid("experiment e { compare plain\n vary seed 0 1\n repeat 2 }"));
  assert.is(
    d.message,
    "cells 2 (plain seed=0, repeat 2, seed 1) and 3 (plain seed=1, repeat 1, seed 1) of experiment 'e' have the " +
      "same settings (one id, so one result would overwrite the other): 'vary seed' together with 'repeat 2' " +
      "repeats seeds (repeat N trains the seed + N - 1); vary the seed or repeat, not both",
  );
  // Seeds that do not meet are fine: 0, 1 and 2, 3.
  const apart = grid("experiment e { compare plain\n vary seed 0 2\n repeat 2 }");
  assert.equal(
    apart.map((c) => c.seed),
    [0, 1, 2, 3],
  );
  assert.is(new Set(apart.map((c) => c.id)).size, 4);
});

distinct("a value twice in one vary list is E633, also when written two ways", async () => {
  const batch = await failsWith("E633", () => grid("experiment e { compare plain\n vary batch 32 32 }"));
  assert.is(
    batch.message,
    "experiment 'e' lists 32 twice in 'vary batch': those cells would train the same settings twice under one id",
  );
  assert.ok(batch.span, "points at the vary list");
  await failsWith("E633", () => grid("experiment e { compare plain\n vary lr 0.01 1e-2 }"));
  await failsWith("E633", () => grid("experiment e { compare plain\n vary optimizer sgd adam sgd }"));
});

distinct("a model compared twice is E634", async () => {
  const d = await failsWith("E634", () => grid("experiment e { compare plain normed plain }"));
  assert.match(d.message, "model 'plain' is compared twice");
});

distinct("nnc experiment stops with the error before loading data or training", async () => {
  const dir = tempDir("duplicates");
  const spec = specFile(dir, tinySpec("experiment e { compare plain\n vary batch 16 16 }"));
  const io = memoryIO();
  assert.is(await run(["experiment", spec.file, "--out", `${dir}/out`, "--jobs", "1"], io), 1);
  assert.match(io.stderr(), "error[E633]");
  assert.not.match(io.stderr(), "data:");
});

const size = suite("grid size");

size("a grid of more than MAX_GRID_CELLS cells is E225, counted before anything is expanded", async () => {
  // 8.6 billion cells: expanding them first would exhaust the heap long before any check ran.
  const text = tinySpec("experiment e { compare plain normed\n repeat 4294967295\n vary seed 0 1 }");
  const compiled = compile(text, { filename: "tiny.nn" });
  assert.not.ok(compiled.ok);
  const e225 = compiled.diagnostics.find((d) => d.code === "E225");
  assert.ok(e225, compiled.diagnostics.map((d) => d.code).join(" "));
  assert.is(
    e225!.message,
    "experiment 'e' has 17,179,869,180 cells (2 models x 2 seed x repeat 4294967295), more than the 100,000 " +
      "one experiment may hold: compare fewer models, vary fewer values or repeat less",
  );
  assert.ok(e225!.line, "positioned at the experiment");
  // expandGrid counts first too (IR written by hand never meets the checker before nnc experiment's grid).
  const program = compileText(tinySpec("experiment e { compare plain normed }"));
  const huge = { ...program.experiments[0]!, repeat: 2 ** 52 };
  await failsWith("E225", () => expandGrid(program, huge));
});

size("the bound is MAX_GRID_CELLS exactly, across models, vary lists and repeat", () => {
  const program = compileText(
    tinySpec("experiment e { compare plain normed\n vary batch 16 32 64 128 256 }"),
  );
  const base = program.experiments[0]!;
  const at = (repeat: number) => gridTooLarge({ ...base, repeat });
  assert.is(MAX_GRID_CELLS, 100_000);
  assert.is(at(MAX_GRID_CELLS / 10), undefined, "2 x 5 x 10,000 = 100,000 cells is allowed");
  assert.equal(at(MAX_GRID_CELLS / 10 + 1), {
    experiment: "e",
    cells: "100,010",
    factors: "2 models x 5 batch x repeat 10001",
    limit: "100,000",
  });
});

size("counts in vary lists are safe integers, as the builder's are (vary epochs 1e300 is E307)", () => {
  const text = tinySpec("experiment e { compare plain\n vary epochs 1 1e300 }");
  const result = compile(text, { filename: "tiny.nn" });
  assert.equal(
    result.diagnostics.filter((d) => d.severity === "error").map((d) => d.message),
    ["'vary epochs' value '1e+300' is not a positive integer (epochs), at most 9007199254740991"],
  );
});

size("E635 says what to change, also for a repeat past every seed", () => {
  const past = (seed: number, repeat: number) =>
    diagnostic("E635", { experiment: "e", seed, repeat, max: MAX_SEED }).message;
  assert.match(past(MAX_SEED - 10, 100), "use a seed of at most 4294967196");
  // More runs than there are seeds: no seed helps (it used to say "a seed of at most -95705032703").
  assert.match(past(0, 99999999999), "repeat at most 4294967296 times");
  assert.not.match(past(0, 99999999999), /-\d/);
});

shape.run();
size.run();
lr.run();
settings.run();
distinct.run();
