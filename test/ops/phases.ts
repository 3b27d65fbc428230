// Test helper for op modules: an op through the phases after its kernel, on a one-model spec: the Keras export
// read back by nnc import (the same graph up to names, a canonical spec), the ONNX export run in onnxruntime
// against nnc's predictions, the formatter, the language server's hover and completion, and the diagnostics a
// spec gets. Each returns what it measured; the op's test asserts on it.
import * as tf from "@tensorflow/tfjs-core";
import * as ort from "onnxruntime-web";
import * as assert from "uvu/assert";
import { TextDocument } from "vscode-languageserver-textdocument";
import { compile } from "../../src/compile.ts";
import { formatSource } from "../../src/format/index.ts";
import { importKeras } from "../../src/import/import.ts";
import { buildModel } from "../../src/lower/model.ts";
import { completionAt } from "../../src/lsp/completion.ts";
import { analyzeDocument } from "../../src/lsp/document.ts";
import { hoverAt } from "../../src/lsp/hover.ts";
import { exportOnnx } from "../../src/onnx/index.ts";
import { kerasTopology } from "../../src/save/keras.ts";
import { saveModel } from "../../src/save/index.ts";
import { tempDir } from "../helpers.ts";
import { upToNames } from "../import/helpers.ts";
import { program, useBackend } from "../lower/helpers.ts";
import { randomizeWeights, seededBatch } from "./parity.ts";

ort.env.wasm.numThreads = 1;

/** The diagnostic codes `spec` gets (errors and warnings). */
export const codesOf = (spec: string): string[] => compile(spec).diagnostics.map((d) => d.code);

/** The first diagnostic of `spec` with `code`, for its message. */
export function diagnosticOf(spec: string, code: string) {
  const d = compile(spec).diagnostics.find((x) => x.code === code);
  assert.ok(d, `expected ${code}, got ${codesOf(spec).join(", ") || "none"}`);
  return d!;
}

/**
 * spec -> model.json (nnc's Keras export) -> nnc import: asserts the same graph up to names and a spec `nnc fmt`
 * leaves as it is; returns the imported spec's text.
 */
export async function importRoundTrip(spec: string): Promise<string> {
  const model = program(spec).models[0]!;
  const json = {
    format: "layers-model",
    generatedBy: "nnc test",
    convertedBy: null,
    modelTopology: kerasTopology(model, "nnc test"),
  };
  const r = await importKeras(JSON.stringify(json, null, 2), { filename: "model.json" });
  assert.ok(r.ok, r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  assert.equal(upToNames(r.program!.models[0]!), upToNames(model));
  assert.is(await formatSource(r.text!), r.text, "the imported spec is canonical");
  return r.text!;
}

/** The largest |nnc - onnxruntime| over a seeded batch, nnc's model with random weights exported to ONNX. */
export async function onnxDifference(spec: string, batch = 4): Promise<{ maxDiff: number; maxAbs: number }> {
  await useBackend("wasm");
  const p = program(spec);
  const model = buildModel(p, { backend: "wasm", seed: 1 });
  randomizeWeights(model, 5);
  const dir = tempDir("op-onnx");
  saveModel(model, dir, {});
  const x = seededBatch(p, batch, 13);
  const ours = model.predict(x).dataSync() as Float32Array;
  model.dispose();
  const { bytes } = await exportOnnx(dir, { backend: "wasm" });
  const session = await ort.InferenceSession.create(bytes);
  const input = new ort.Tensor("float32", Float32Array.from(x.dataSync()), [...x.shape]);
  tf.dispose(x);
  const result = await session.run({ [session.inputNames[0]!]: input });
  const theirs = result[session.outputNames[0]!]!.data as Float32Array;
  await session.release();
  assert.is(theirs.length, ours.length, "prediction sizes");
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < ours.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
    maxAbs = Math.max(maxAbs, Math.abs(ours[i]!));
  }
  return { maxDiff, maxAbs };
}

/** `nnc fmt` of `text`. */
export const formatted = (text: string): Promise<string> => formatSource(text);

const document = (text: string) => analyzeDocument(TextDocument.create("file:///t.nn", "nn", 1, text));

/** The language server's hover text at the first occurrence of `word` in `text`. */
export function hoverText(text: string, word: string): string {
  const at = text.indexOf(word);
  assert.ok(at >= 0, `'${word}' in the text`);
  const h = hoverAt(document(text), at + 1);
  const contents = h?.contents as { value?: string } | string | undefined;
  return typeof contents === "string" ? contents : (contents?.value ?? "");
}

/** The labels the language server completes at the end of `text` (a layer line being typed). */
export function completions(text: string): string[] {
  return completionAt(document(text), text.length).items.map((i) => i.label);
}
