// Test helpers for nnc import: import JSON text, a model's IR up to names, and parameter totals.
import * as assert from "uvu/assert";
import { importKeras, type ImportResult } from "../../src/import/import.ts";
import type { Model } from "../../src/ir/schema.ts";

/** Imports JSON (text or a value) and fails the test with the diagnostics when it does not import. */
export async function imported(json: unknown, filename = "model.json", data?: string): Promise<ImportResult> {
  const text = typeof json === "string" ? json : JSON.stringify(json, null, 2);
  const r = await importKeras(text, { filename, ...(data ? { data } : {}) });
  assert.ok(r.ok, r.diagnostics.map((d) => `${d.code} line ${d.line}: ${d.message}`).join("\n"));
  return r;
}

/** Imports JSON that must fail; gives its diagnostics (located in the JSON). */
export async function refused(json: unknown, filename = "model.json") {
  const text = typeof json === "string" ? json : JSON.stringify(json, null, 2);
  const r = await importKeras(text, { filename });
  assert.not.ok(r.ok, "expected the import to fail");
  assert.is(r.text, undefined, "no spec on failure");
  return r.diagnostics;
}

/** A model's nodes without names and spans, inputs as indices: two models alike up to names compare equal. */
export function upToNames(model: Model): unknown[] {
  const index = new Map(model.layers.map((l, i) => [l.name, i]));
  return model.layers.map((layer) => {
    const {
      name: _n,
      span: _s,
      argSpans: _a,
      expandedFrom: _e,
      inputs,
      ...rest
    } = layer as Record<string, unknown> & { inputs: string[] };
    return { ...rest, inputs: inputs.map((n) => index.get(n)) };
  });
}

/** Total parameters (trainable and not) as Keras counts them: tfjs' countParams(). */
export const totalParams = (model: Model): number =>
  model.layers.reduce((n, l) => n + (l.params?.trainable ?? 0) + (l.params?.nonTrainable ?? 0), 0);
