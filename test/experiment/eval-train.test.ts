// An experiment's `eval_train` (issue 19: the train-mode vs inference-mode gap): every cell measures the
// training set in inference mode at each epoch end, in worker threads as in the main thread, exactly as
// `nnc train --eval-train` does for the same model and settings; the report gains the two train-accuracy
// columns; an experiment without it measures nothing more.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { validateResults } from "../../src/experiment/results-schema.ts";
import { tempDir } from "../helpers.ts";
import { specFile, tinySpec } from "./helpers.ts";

const TRAIN = "data mnist limit=96\n  batch 32\n  epochs 2\n  seed 3";
const E = suite("experiment eval_train");

interface Epoch {
  loss: number;
  accuracy: number;
  trainEvalLoss?: number;
  trainEvalAccuracy?: number;
}

E("every cell records the training set in inference mode, as nnc train --eval-train does", async () => {
  const dir = tempDir("eval-train-experiment");
  const spec = specFile(dir, tinySpec("experiment gap {\n  compare plain normed\n  eval_train\n}", TRAIN));
  const io = memoryIO();
  // Two jobs: the cells train in worker threads, which must receive the setting too.
  const code = await run(["experiment", spec.file, "--out", join(dir, "out"), "--jobs", "2"], io);
  assert.is(code, 0, io.stderr());
  const results = JSON.parse(readFileSync(join(dir, "out", "results.json"), "utf8"));
  assert.equal(validateResults(results), [], "results.json is valid");
  assert.is(results.experiment.evalTrain, true);
  for (const cell of results.cells) {
    assert.is(cell.history.length, 2);
    for (const e of cell.history as Epoch[]) {
      assert.type(e.trainEvalAccuracy, "number", `${cell.model} epoch has the inference-mode accuracy`);
      assert.ok(e.trainEvalAccuracy! >= 0 && e.trainEvalAccuracy! <= 1);
      assert.type(e.trainEvalLoss, "number");
    }
  }
  // The same model trained alone with --eval-train measures the same figures, to the last bit.
  const normed = results.cells.find((c: { model: string }) => c.model === "normed");
  const out = join(dir, "alone");
  const trained = await run(
    ["train", spec.file, "--model", "normed", "--threads", "1", "--eval-train", "--out", out],
    memoryIO(),
  );
  assert.is(trained, 0);
  const alone = JSON.parse(readFileSync(join(out, "history.json"), "utf8")).epochs as Epoch[];
  assert.equal(
    (normed.history as Epoch[]).map((e) => [e.trainEvalLoss, e.trainEvalAccuracy]),
    alone.map((e) => [e.trainEvalLoss, e.trainEvalAccuracy]),
  );
  const html = readFileSync(join(dir, "out", "report.html"), "utf8");
  assert.match(html, "final train acc, train mode");
  assert.match(html, "final train acc, inference mode");
});

E("without eval_train nothing more is measured or shown", async () => {
  const dir = tempDir("eval-train-none");
  const spec = specFile(dir, tinySpec("experiment plain_only {\n  compare plain\n}", TRAIN));
  const code = await run(["experiment", spec.file, "--out", join(dir, "out"), "--jobs", "1"], memoryIO());
  assert.is(code, 0);
  const results = JSON.parse(readFileSync(join(dir, "out", "results.json"), "utf8"));
  assert.is(results.experiment.evalTrain, undefined);
  for (const e of results.cells[0].history as Epoch[]) assert.is(e.trainEvalAccuracy, undefined);
  assert.not.match(readFileSync(join(dir, "out", "report.html"), "utf8"), "inference mode");
});

E.run();
