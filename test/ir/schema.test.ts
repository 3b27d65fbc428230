// The IR schema: the committed JSON Schema is what the TypeBox source generates, and ajv accepts a valid
// program and rejects broken ones with a path that says where.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { validateIR, IR_VERSION, type Program } from "../../src/ir/index.ts";
import { SCHEMA_PATH, schemaText } from "../../scripts/gen-schema.ts";

const minimal = (): Program => ({
  irVersion: IR_VERSION,
  models: [
    {
      name: "mlp",
      layers: [
        { op: "input", name: "input_layer", inputs: [], shape: [28, 28] },
        { op: "flatten", name: "flatten", inputs: ["input_layer"] },
        {
          op: "dense",
          name: "dense",
          inputs: ["flatten"],
          units: 10,
          activation: "softmax",
          useBias: true,
          kernelInitializer: { name: "glorot_uniform", scale: 1 },
        },
      ],
    },
  ],
  train: {
    data: { source: "mnist" },
    optimizer: { type: "adam", lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    loss: { type: "auto" },
    batch: 32,
    epochs: 5,
    seed: 0,
    bnstats: { mode: "exact" },
    shuffle: true,
  },
  experiments: [],
});

const schema = suite("ir schema");

schema("the committed schema file is up to date (npx tsx scripts/gen-schema.ts)", () => {
  assert.fixture(readFileSync(SCHEMA_PATH, "utf8"), schemaText());
});

schema("a minimal program validates", () => {
  const { program, diagnostics } = validateIR(minimal());
  assert.equal(diagnostics, []);
  assert.ok(program);
});

schema("an unknown layer field is rejected with its path", () => {
  const p = minimal() as unknown as { models: { layers: Record<string, unknown>[] }[] };
  p.models[0]!.layers[2]!.unitz = 3;
  const { diagnostics } = validateIR(p);
  assert.ok(diagnostics.length > 0);
  assert.ok(
    diagnostics.some(
      (d) => d.code === "E005" && d.message.includes("models.0.layers.2") && d.message.includes("unitz"),
    ),
    JSON.stringify(diagnostics),
  );
});

schema("a wrong enum value names the allowed ones", () => {
  const p = minimal();
  (p.train.bnstats as { mode: string }).mode = "running";
  const { diagnostics } = validateIR(p);
  assert.ok(
    diagnostics.some((d) => d.message.includes("train.bnstats.mode") && d.message.includes('"exact"')),
    JSON.stringify(diagnostics),
  );
});

schema("another IR version is refused with E006", () => {
  const { diagnostics } = validateIR({ ...minimal(), irVersion: 99 });
  assert.equal(
    diagnostics.map((d) => d.code),
    ["E006"],
  );
  assert.match(diagnostics[0]!.message, /version 99/);
});

schema("non-objects are rejected, not crashed on", () => {
  for (const value of [null, 42, "x", []]) {
    const { diagnostics } = validateIR(value);
    assert.ok(diagnostics.length > 0, JSON.stringify(value));
  }
});

schema.run();
