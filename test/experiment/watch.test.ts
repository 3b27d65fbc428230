// Issue 19's `watch` in experiments: every cell records its series into results.json (valid against the
// results schema), the report draws them (watch.svg/png, a figure in report.html), a spec without watch draws
// none, and a cell that diverges keeps what it recorded before.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { validateResults } from "../../src/experiment/results-schema.ts";
import { tempDir } from "../helpers.ts";
import { specFile, tinySpec } from "./helpers.ts";

const WATCHED = () =>
  tinySpec(
    "experiment study {\n  compare plain normed\n  vary lr 0.001 1e30\n}",
    `data mnist limit=96\n  optimizer sgd lr=0.01\n  batch 32\n  epochs 2\n  seed 3\n  watch last every=2\n  watch last output every=3 unit=1`,
  )
    .replace(/dense 8 relu/, "dense 8\n  relu name=last")
    .replace(/\n  relu\n  dense 10/, "\n  relu name=last\n  dense 10");

const E = suite("watch in experiments: results.json and the report");

E("every cell's series are in results.json and the report draws them", async () => {
  const dir = tempDir("watch-experiment");
  const spec = specFile(dir, WATCHED());
  const io = memoryIO();
  const code = await run(["experiment", spec.file, "--out", join(dir, "out"), "--jobs", "1"], io);
  assert.is(code, 0, io.stderr());
  const results = JSON.parse(readFileSync(join(dir, "out", "results.json"), "utf8"));
  assert.equal(validateResults(results), [], "results.json is valid");
  assert.is(results.cells.length, 4);
  assert.ok(
    results.cells.some((c: { status: string }) => c.status === "diverged"),
    "lr 1e30 diverges",
  );
  for (const cell of results.cells) {
    const [input, output] = cell.watch;
    assert.is(input.layer, "last");
    assert.is(output.unit, 1);
    if (cell.status === "ok") {
      assert.equal(input.steps, [0, 2, 4], `${cell.group}: 3 steps an epoch, 6 in all`);
      assert.equal(output.steps, [0, 3]);
      // A relu's output is never below 0, and its input's low percentile is (the relu clips it).
      for (const v of output.values) assert.ok(v[0] >= 0, `relu output ${v}`);
      assert.ok(
        input.values.some((v: number[]) => v[0] < 0),
        "relu input below 0 somewhere",
      );
    } else {
      // lr 1e30 diverges within the first steps: what was recorded before is kept (step 0, before any update).
      assert.equal(input.steps, [0, 2, 4].slice(0, input.steps.length));
      assert.ok(input.steps.length >= 1);
    }
  }
  for (const f of ["watch.svg", "watch.png"]) assert.ok(existsSync(join(dir, "out", f)), f);
  const svg = readFileSync(join(dir, "out", "watch.svg"), "utf8");
  assert.match(svg, "last input (p15/50/85)");
  assert.match(svg, "last output unit 1 (p15/50/85)");
  assert.match(readFileSync(join(dir, "out", "report.html"), "utf8"), 'id="watch"');
});

E("an experiment without watch draws no watch plot", async () => {
  const dir = tempDir("watch-none");
  const spec = specFile(dir, tinySpec("experiment one {\n  compare plain\n}"));
  const code = await run(["experiment", spec.file, "--out", join(dir, "out"), "--jobs", "1"], memoryIO());
  assert.is(code, 0);
  assert.not.ok(existsSync(join(dir, "out", "watch.svg")));
  assert.not.match(readFileSync(join(dir, "out", "report.html"), "utf8"), 'id="watch"');
});

E.run();
