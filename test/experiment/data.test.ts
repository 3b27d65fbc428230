// What an experiment trains on: data paths relative to the spec (workers may run in another folder), checked
// against every compared model before any cell trains.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import type { WorkerSetup } from "../../src/experiment/pool.ts";
import { runExperiment } from "../../src/experiment/run-experiment.ts";
import { summarizeCell } from "../../src/experiment/run-cell.ts";
import { failsWith, tempDir } from "../helpers.ts";
import { runOptions } from "./helpers.ts";

/** A pool that trains nothing: each cell "finishes" at once with an empty history. */
function fakePool(seen: WorkerSetup[]) {
  return (setup: WorkerSetup) => {
    seen.push(setup);
    return {
      slots: 1,
      run: async (_slot: number, cell: Parameters<typeof summarizeCell>[0]) =>
        summarizeCell(cell, [], { backend: "fake", seconds: 0, samplesPerSecond: 0 }),
      close: async () => {},
    };
  };
}

const paths = suite("experiment: data paths");

paths("a relative csv: path is read from the spec's folder, and cells get it absolute", async () => {
  const dir = tempDir("data-paths");
  const rows = Array.from({ length: 30 }, (_, i) => `${i % 3},${i},${i * 2},${i % 5},${i % 7}`);
  writeFileSync(join(dir, "rows.csv"), rows.join("\n"));
  const text =
    "model a { input 4; dense 3 softmax }\ntrain { data csv:rows.csv validation=0.2; epochs 1 }\n" +
    "experiment e { compare a; vary batch 4 8 }\n";
  const seen: WorkerSetup[] = [];
  const r = await runExperiment(memoryIO(), { ...runOptions(dir, text), pool: fakePool(seen) });
  assert.is(r.results.cells.length, 2);
  assert.is(seen[0]!.data.source, `csv:${join(dir, "rows.csv")}`);
  for (const cell of r.trained) assert.is(cell.train.data.source, `csv:${join(dir, "rows.csv")}`);
});

const models = suite("experiment: data against every compared model");

const runSpec = (dir: string, text: string, seen: WorkerSetup[]) =>
  runExperiment(memoryIO(), { ...runOptions(dir, text), pool: fakePool(seen) });

models(
  "a second model with 5 output units on 10-class mnist is E506 naming it, before any cell",
  async () => {
    const seen: WorkerSetup[] = [];
    const d = await failsWith(
      "E506",
      runSpec(
        tempDir("labels"),
        "model ten { input 28x28; flatten; dense 10 softmax }\nmodel five { input 28x28; flatten; dense 5 softmax }\n" +
          "train { data mnist limit=64; epochs 1 }\nexperiment e { compare ten five; vary batch 8 16 }\n",
        seen,
      ),
    );
    assert.match(d.message, /^mnist: label [5-9] at sample \d+ is outside the model's 5 classes/);
    assert.equal(d.notes, ["model 'five' of experiment 'e' has 5 output units"]);
    assert.is(seen.length, 0, "no cell started");
  },
);

models("a second model whose input the samples cannot feed is E507 naming it", async () => {
  const d = await failsWith(
    "E507",
    runSpec(
      tempDir("shapes"),
      "model a { input 28x28; flatten; dense 10 softmax }\nmodel b { input 32x32; flatten; dense 10 softmax }\n" +
        "train { data mnist limit=64; epochs 1 }\nexperiment e { compare a b }\n",
      [],
    ),
  );
  assert.match(d.message, "[32, 32]");
  assert.equal(d.notes, ["in model 'b' of experiment 'e'"]);
});

paths.run();
models.run();
