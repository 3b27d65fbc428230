import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { selectBackend } from "../../src/runtime/backend.ts";
import { makeManifest } from "../../src/save/index.ts";
import { VERSION } from "../../src/version.ts";
import { MLP_SPEC } from "./helpers.ts";
import { checkedProgram } from "./reference-model.ts";

/** A package's version from its package.json file in node_modules (resolved from here, as nnc resolves it). */
function installedVersion(name: string): string {
  const file = createRequire(import.meta.url).resolve(`${name}/package.json`);
  const version = (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  assert.match(version, /^\d+\.\d+\.\d+/, `${file} holds a version`);
  return version;
}

const Manifest = suite("run manifest");

Manifest("holds what reproducing the run needs", async () => {
  const backend = await selectBackend("auto");
  const program = checkedProgram(MLP_SPEC);
  const startedAt = new Date("2026-01-02T03:04:05Z");
  const manifest = makeManifest({
    specFile: "specs/mlp.nn",
    specHash: "a".repeat(64),
    model: "model",
    train: { ...program.train, seed: 42, span: [0, 10] },
    backend: backend.name,
    data: "MNIST (embedded), 9,000 train / 1,000 test",
    startedAt,
    argv: ["train", "specs/mlp.nn", "--seed", "42"],
  });
  assert.is(manifest.nnc, VERSION);
  assert.equal(manifest.spec, { file: "specs/mlp.nn", sha256: "a".repeat(64) });
  assert.is(manifest.model, "model");
  assert.is(manifest.seed, 42);
  assert.is(manifest.train.seed, 42);
  assert.is(
    (manifest.train as { span?: unknown }).span,
    undefined,
    "spans are source positions, not settings",
  );
  assert.is(manifest.data.source, program.train.data.source);
  assert.is(manifest.data.description, "MNIST (embedded), 9,000 train / 1,000 test");
  assert.equal(manifest.backend, { name: backend.name, detail: backend.detail });
  assert.is(manifest.versions.node, process.version);
  // The versions installed here, read from each package's own package.json (an upgrade must not fail this).
  for (const name of ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-wasm", "@tensorflow/tfjs-layers"]) {
    assert.is(manifest.versions.packages[name], installedVersion(name), name);
  }
  assert.is(manifest.startedAt, "2026-01-02T03:04:05.000Z");
  assert.ok(Date.parse(manifest.finishedAt) >= Date.now() - 60_000);
  assert.equal(manifest.argv, ["train", "specs/mlp.nn", "--seed", "42"]);
  // Plain JSON: it survives a round trip unchanged.
  assert.equal(JSON.parse(JSON.stringify(manifest)), manifest);
});

Manifest.run();
