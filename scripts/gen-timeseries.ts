// Writes examples/timeseries/train.csv and test.csv: a generated (synthetic) time-series classification task for
// specs/timeseries-conv1d.nn. Each row is a label and a window of STEPS values of one noisy periodic wave: class 0
// a sine, 1 a square wave, 2 a sawtooth, each with a random period (10-32 steps), phase, amplitude (0.5-1.5)
// and offset (-0.5..0.5), plus Gaussian noise (stddev 0.45), so the shape of a cycle, not its level or scale,
// tells the classes apart. Seeded: the files are the same on every run. Run: npx tsx scripts/gen-timeseries.ts
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Random } from "../src/util/random.ts";

export const TIMESERIES_DIR = fileURLToPath(new URL("../examples/timeseries/", import.meta.url));
export const STEPS = 64;
export const CLASSES = ["sine", "square", "sawtooth"] as const;
const NOISE = 0.45;

/** One period of each wave at phase u in [0, 1): values in [-1, 1]. */
const WAVES: Record<(typeof CLASSES)[number], (u: number) => number> = {
  sine: (u) => Math.sin(2 * Math.PI * u),
  square: (u) => (u < 0.5 ? 1 : -1),
  sawtooth: (u) => 2 * u - 1,
};

/** `count` rows, classes in turn (balanced), as CSV text with a header `label,t0,...`. */
export function timeseriesCsv(count: number, seed: number): string {
  const rng = new Random(seed);
  const header = ["label", ...Array.from({ length: STEPS }, (_, t) => `t${t}`)].join(",");
  const rows = Array.from({ length: count }, (_, i) => {
    const label = i % CLASSES.length;
    const wave = WAVES[CLASSES[label]!];
    const period = rng.uniform(10, 32);
    const phase = rng.uniform(0, 1);
    const amplitude = rng.uniform(0.5, 1.5);
    const offset = rng.uniform(-0.5, 0.5);
    const values = Array.from({ length: STEPS }, (_, t) => {
      const u = (((t / period + phase) % 1) + 1) % 1;
      return (offset + amplitude * wave(u) + NOISE * rng.normal()).toFixed(2);
    });
    return `${label},${values.join(",")}`;
  });
  return `${header}\n${rows.join("\n")}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(TIMESERIES_DIR, { recursive: true });
  writeFileSync(`${TIMESERIES_DIR}train.csv`, timeseriesCsv(2400, 1));
  writeFileSync(`${TIMESERIES_DIR}test.csv`, timeseriesCsv(600, 2));
}
