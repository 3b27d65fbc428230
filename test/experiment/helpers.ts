// Test helpers for experiments: tiny specs (a small MLP with and without batchnorm on a slice of mnist) written
// to a folder and compiled (temp folders and "fails with code X" are in test/helpers.ts).
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import type { ExperimentRunOptions } from "../../src/experiment/run-experiment.ts";
import type { Program } from "../../src/ir/schema.ts";

/** Two tiny models and a train block; `experiments` is appended as written. */
export function tinySpec(
  experiments: string,
  train = "data mnist limit=96\n  batch 32\n  epochs 1\n  seed 3",
): string {
  return `model plain {
  input 28x28
  flatten
  dense 8 relu
  dense 10 softmax
}

model normed {
  input 28x28
  flatten
  dense 8
  batchnorm
  relu
  dense 10 softmax
}

train {
  ${train}
}

${experiments}
`;
}

export function compileText(text: string): Program {
  const result = compile(text, { filename: "tiny.nn" });
  assert.ok(result.ok, result.diagnostics.map((d) => d.message).join("\n"));
  return result.program!;
}

/** A spec file on disk, with what runExperiment needs to identify it. */
export function specFile(dir: string, text: string, name = "tiny.nn") {
  const file = join(dir, name);
  writeFileSync(file, text);
  return {
    file,
    program: compileText(text),
    specText: text,
    specSha256: createHash("sha256").update(text).digest("hex"),
  };
}

/** runExperiment's options for a spec written to `dir`: one job, results in dir/out; `extra` overrides. */
export function runOptions(dir: string, text: string, extra: Partial<ExperimentRunOptions> = {}) {
  const spec = specFile(dir, text);
  return {
    program: spec.program,
    specFile: spec.file,
    specText: spec.specText,
    specSha256: spec.specSha256,
    outDir: join(dir, "out"),
    jobs: 1,
    backend: "auto" as const,
    ...extra,
  };
}
