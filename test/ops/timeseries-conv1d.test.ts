// specs/timeseries-conv1d.nn, the 1-D convnets of issue 20 on the generated time series of
// examples/timeseries/: the committed CSVs are what scripts/gen-timeseries.ts writes; the spec's models check
// without a diagnostic and the compiled step covers each (conv1d, dilated and strided, with batchnorm); and
// `nnc train` trains the convnet on a few rows of the data end to end.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { TIMESERIES_DIR, timeseriesCsv } from "../../scripts/gen-timeseries.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { compile } from "../../src/compile.ts";
import { lowerLoss } from "../../src/lower/loss.ts";
import { Network } from "../../src/lower/network.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { tempDir } from "../helpers.ts";
import { useBackend } from "../lower/helpers.ts";

const Spec = suite("specs/timeseries-conv1d.nn");
const SPEC_FILE = fileURLToPath(new URL("../../specs/timeseries-conv1d.nn", import.meta.url));

Spec("the committed CSVs are what scripts/gen-timeseries.ts writes", () => {
  assert.ok(readFileSync(join(TIMESERIES_DIR, "train.csv"), "utf8") === timeseriesCsv(2400, 1), "train.csv");
  assert.ok(readFileSync(join(TIMESERIES_DIR, "test.csv"), "utf8") === timeseriesCsv(600, 2), "test.csv");
});

Spec("every model checks cleanly, and the compiled step covers it", async () => {
  await useBackend("wasm");
  const r = compile(readFileSync(SPEC_FILE, "utf8"));
  assert.ok(r.ok, r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  assert.equal(
    r.diagnostics.map((d) => d.code),
    [],
  );
  const models = r.program!.models;
  assert.equal(
    models.map((m) => m.name),
    ["convnet", "dilated", "pooled", "mlp"],
  );
  for (const model of models) {
    const net = new Network(model, 4);
    try {
      assert.ok(manualGradients(net, lowerLoss(net, r.program!.train.loss)), `${model.name}: compiled step`);
    } finally {
      net.dispose();
    }
  }
  assert.ok(models.slice(0, 3).every((m) => m.layers.filter((l) => l.op === "conv1d").length >= 3));
});

Spec("nnc train trains the convnet on 96 rows for one epoch", async () => {
  const dir = tempDir("timeseries-train");
  const io = memoryIO();
  const code = await run(
    [
      "train",
      SPEC_FILE,
      "--model",
      "convnet",
      "--limit",
      "96",
      "--epochs",
      "1",
      "--backend",
      "wasm",
      "--out",
      join(dir, "run"),
    ],
    io,
  );
  assert.is(code, 0, io.stderr());
  const history = JSON.parse(readFileSync(join(dir, "run", "history.json"), "utf8"));
  const epoch = history.epochs[0];
  assert.ok(Number.isFinite(epoch.loss) && epoch.loss > 0, `loss ${epoch.loss}`);
  assert.ok(epoch.valAccuracy >= 0 && epoch.valAccuracy <= 1, `val accuracy ${epoch.valAccuracy}`);
  assert.match(io.stderr() + io.stdout(), "96 train");
});

Spec.run();
