// What `watch` (issue 19) costs: the training steps of specs/bn-paper-figure1.nn's networks at batch 60 on the
// embedded mnist, with and without `watch last` at its defaults (every 50 steps) and at every 10, in one run,
// alternated three times (the machine's speed drifts: compare within a round). Prints each round's
// samples/s and the watch's cost as a share of step time (target: under 5% at the defaults), two ways: from the
// samples/s of runs with and without it (noisy on a shared machine), and from the time fit measures inside the
// watched run itself around each recording (FitTimings.watch), which a busy machine slows as much as the steps.
// Run: npm run bench:watch [-- --epochs=N]
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { readFileSync } from "node:fs";
import { compile } from "../src/compile.ts";
import { loadDataset } from "../src/data/index.ts";
import type { Program, Train } from "../src/ir/schema.ts";
import type { FitTimings } from "../src/runtime/types.ts";
import { Network } from "../src/lower/network.ts";
import { fitNetwork } from "../src/train/fit.ts";

const epochs = Number(process.argv.find((a) => a.startsWith("--epochs="))?.split("=")[1] ?? 3);
if (!(await tf.setBackend("wasm")) || tf.getBackend() !== "wasm")
  throw new Error("the wasm backend failed to start");
const spec = new URL("../specs/bn-paper-figure1.nn", import.meta.url);
const result = compile(readFileSync(spec, "utf8"), { filename: "bn-paper-figure1.nn" });
if (!result.program) throw new Error(result.diagnostics.map((d) => d.message).join("\n"));
const program: Program = result.program;
const data = await loadDataset(program.train.data);

const settings = (watchEvery: number | undefined): Train => {
  const { watch, ...rest } = program.train;
  const base: Train = { ...rest, epochs, bnstats: { mode: "ema" } };
  return watchEvery === undefined
    ? base
    : { ...base, watch: watch!.map((w) => ({ ...w, every: watchEvery })) };
};

/** Training samples/s over the epochs after the first (warm-up), and the share of training time in watch. */
async function rate(model: number, watchEvery: number | undefined): Promise<number> {
  const net = new Network(program.models[model]!, program.train.seed);
  const timings: FitTimings = { training: 0, watch: 0, statistics: 0, evaluation: 0 };
  const h = await fitNetwork(net, settings(watchEvery), data, { threads: 1, timings });
  net.dispose();
  if (watchEvery !== undefined) shares.set(watchEvery, timings.watch / (timings.training - timings.watch));
  const later = h.epochs.slice(1);
  const seconds = later.reduce((s, e) => s + data.train.count / e.samplesPerSecond, 0);
  return (data.train.count * later.length) / seconds;
}
/** The last watched run's watch time over its step time, per every=. */
const shares = new Map<number, number>();
const pct = (x: number | undefined) => (x === undefined ? "?" : `${(x * 100).toFixed(2)}%`);

console.log(
  `watch cost: specs/bn-paper-figure1.nn at batch 60, ${data.train.count} samples, ${epochs} epochs (the first ` +
    `not timed), wasm, 1 thread; load average ${(await import("node:os")).loadavg()[0]!.toFixed(1)}`,
);
for (const [m, name] of program.models.map((x, i) => [i, x.name] as const)) {
  for (let round = 1; round <= 3; round++) {
    const off = await rate(m, undefined);
    const at50 = await rate(m, 50);
    const at10 = await rate(m, 10);
    const cost = (on: number) => `${(((off - on) / on) * 100).toFixed(1)}%`;
    console.log(
      `  ${name.padEnd(8)} round ${round}: no watch ${Math.round(off)} samples/s; every 50 ${Math.round(at50)} ` +
        `(cost ${cost(at50)}; timed inside: ${pct(shares.get(50))}); every 10 ${Math.round(at10)} ` +
        `(cost ${cost(at10)}; timed inside: ${pct(shares.get(10))})`,
    );
  }
}
