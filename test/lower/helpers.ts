// Test helpers for lowering and training: the wasm backend (checked: setBackend reports failure only by its
// return value), checked programs from .nn text, tiny synthetic data sets, and weight comparisons.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import type { CompiledModel, EpochRecord } from "../../src/runtime/types.ts";
import { compile } from "../../src/compile.ts";
import type { Dataset, Split } from "../../src/data/types.ts";
import type { Program } from "../../src/ir/schema.ts";
import { Random } from "../../src/util/random.ts";

export async function useBackend(name: "wasm" | "cpu" = "wasm"): Promise<void> {
  if (tf.getBackend() === name) return;
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs backend '${name}' failed to initialise`);
}

/** A checked program; throws with the diagnostics when the source does not compile. */
export function program(source: string): Program {
  const r = compile(source);
  if (!r.ok || !r.program) throw new Error(r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  return r.program;
}

/** Gaussian blobs in `dims` dimensions, one per class, well separated: a task a tiny MLP learns quickly. */
export function blobs(count: number, classes: number, dims: number, seed: number, spread = 0.5): Split {
  const rng = new Random(seed);
  const centers = Array.from({ length: classes }, () =>
    Array.from({ length: dims }, () => rng.uniform(-2, 2)),
  );
  const x = new Float32Array(count * dims);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    y[i] = c;
    for (let d = 0; d < dims; d++) x[i * dims + d] = centers[c]![d]! + spread * rng.normal();
  }
  return { x, scale: 1, y, count };
}

export function dataset(train: Split, validation: Split, sampleShape: number[], numClasses: number): Dataset {
  return {
    source: "synthetic",
    description: "synthetic test data",
    sampleShape,
    numClasses,
    train,
    validation,
    validationName: "validation",
  };
}

/** A small blob data set: `count` training and count/2 validation samples of `dims` features. */
export const blobData = (count = 240, classes = 3, dims = 4, seed = 7): Dataset => {
  const all = blobs(count + count / 2, classes, dims, seed);
  const cut = (from: number, to: number): Split => ({
    x: all.x.slice(from * dims, to * dims),
    scale: all.scale,
    y: all.y.slice(from, to),
    count: to - from,
  });
  return dataset(cut(0, count), cut(count, count + count / 2), [dims], classes);
};

export const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Every weight of a model (moving statistics included) as plain numbers, by name. */
export const weightsOf = (m: CompiledModel): Record<string, number[]> =>
  Object.fromEntries(Object.entries(m.getWeights()).map(([k, t]) => [k, values(t)]));

/** A history's epochs without the timing fields, which differ between runs. */
export const withoutTimings = (epochs: EpochRecord[]) =>
  epochs.map(({ seconds: _s, samplesPerSecond: _r, ...rest }) => rest);

/** Largest |a - b| / (atol + rtol |b|) over two arrays; <= 1 means close. */
export function closeness(a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (atol + rtol * Math.abs(b[i]!)));
  return worst;
}

/** Nested number arrays flattened row-major. */
export const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
