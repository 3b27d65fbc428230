// nnc train --init-from DIR: fine-tuning an imported model (nnc import --weights) starts from its weights,
// matched by layer name, and the run's manifest.json says so; a folder that does not fit the model (a missing
// layer, another shape, a layer the model lacks) is E747 naming the layer; --resume and --init-from conflict.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { loadModel } from "../../src/save/model.ts";
import { tempDir } from "../helpers.ts";
import { useBackend } from "../lower/helpers.ts";

const nnc = async (...argv: string[]) => {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
};

/** A tfjs MLP for mnist's digits saved as model.json + .bin, imported with --weights: the imported folder. */
async function importedMlp(root: string): Promise<string> {
  const model = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28] }),
      tfl.layers.dense({ units: 32, activation: "relu" }),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(root, "w.bin"), Buffer.from(a.weightData as ArrayBuffer));
      writeFileSync(
        join(root, "model.json"),
        JSON.stringify({
          format: "layers-model",
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ["w.bin"], weights: a.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  model.dispose();
  const dir = join(root, "imported");
  const r = await nnc("import", join(root, "model.json"), "--weights", "-o", dir, "--backend", "cpu");
  assert.is(r.code, 0, r.stderr);
  return dir;
}

const weightsOf = async (dir: string) => {
  const model = await loadModel(dir, { backend: "cpu" });
  const out = Object.fromEntries(
    Object.entries(model.getWeights()).map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]),
  );
  model.dispose();
  return out;
};

const initFrom = suite("train --init-from");
initFrom.before(() => useBackend("cpu"));

initFrom(
  "fine-tuning starts from the imported weights (a vanishing lr keeps them) and the manifest says so",
  async () => {
    const root = tempDir("init-from");
    const dir = await importedMlp(root);
    const out = join(root, "tuned");
    const train = (extra: string[], to: string) =>
      nnc(
        "train",
        join(dir, "spec.nn"),
        "--epochs",
        "1",
        "--limit",
        "256",
        "--lr",
        "1e-9",
        "--backend",
        "cpu",
        "--threads",
        "1",
        "--out",
        to,
        ...extra,
      );
    const r = await train(["--init-from", dir], out);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, `initial weights: 4 weights from ${dir} (matched by layer name)`);
    const before = await weightsOf(dir);
    const after = await weightsOf(out);
    for (const [name, values] of Object.entries(before)) {
      const diff = values.reduce((m, v, i) => Math.max(m, Math.abs(v - after[name]![i]!)), 0);
      assert.ok(diff < 1e-6, `${name} moved by ${diff}`);
    }
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    assert.equal(manifest.initFrom, { dir, weights: 4 });
    // Without --init-from the same run starts elsewhere (the check above can fail).
    const fresh = join(root, "fresh");
    assert.is((await train([], fresh)).code, 0);
    const other = await weightsOf(fresh);
    const kernel = Object.keys(before).find((k) => k.endsWith("/kernel"))!;
    assert.ok(before[kernel]!.some((v, i) => Math.abs(v - other[kernel]![i]!) > 1e-3));
  },
);

initFrom("E747 names the layer that does not fit; --resume with --init-from is a usage error", async () => {
  const root = tempDir("init-from-bad");
  const dir = await importedMlp(root);
  const attempt = async (spec: string, name: string) => {
    const file = join(root, `${name}.nn`);
    writeFileSync(file, `${spec}\ntrain {\n  data mnist\n}\n`);
    const r = await nnc(
      "train",
      file,
      "--epochs",
      "1",
      "--limit",
      "64",
      "--backend",
      "cpu",
      "--init-from",
      dir,
      "--out",
      join(root, `run-${name}`),
    );
    assert.is(r.code, 1, r.stderr);
    return r.stderr;
  };
  assert.match(
    await attempt("input 28x28\nflatten\ndense 16 relu\ndense 10 softmax", "narrower"),
    `error[E747]: --init-from ${dir}: dense/kernel is [784, 32] in the folder, but layer 'dense' (dense) needs [784, 16]`,
  );
  assert.match(
    await attempt("input 28x28\nflatten\ndense 32 relu\ndense 16 relu\ndense 10 softmax", "deeper"),
    /error\[E747\]: .*dense_1\/kernel is \[32, 10\] in the folder, but layer 'dense_1' \(dense\) needs \[32, 16\]/,
  );
  assert.match(
    await attempt("input 28x28\nflatten\ndense 32 relu name=hidden\ndense 10 softmax", "renamed"),
    "the folder has no layer 'hidden' (dense), which the model has: layers are matched by name",
  );
  assert.match(
    await attempt("input 28x28\nflatten\ndense 10 softmax", "shorter"),
    /error\[E747\]: .*dense\/kernel is \[784, 32\] in the folder, but layer 'dense' \(dense\) needs \[784, 10\]/,
  );
  const both = await nnc("train", join(dir, "spec.nn"), "--resume", "--init-from", dir);
  assert.is(both.code, 2);
  assert.match(both.stderr, "cannot be used with option '--resume'");
});

initFrom.run();
