// What every bench peer shares: its command line (model, batch, samples per timed epoch, data source), the data
// subset it trains on, and the one JSON line it prints for bench/run.ts (samples/s, peak RSS).
import { loadDataset } from "../../src/data/index.ts";
import type { Dataset, Split } from "../../src/data/types.ts";
import { MODELS, type BenchModel } from "./models.ts";

export interface PeerArgs {
  model: BenchModel;
  batch: number;
  /** Samples per timed epoch (a fixed number of steps: samples / batch). */
  samples: number;
  source: string;
}

export function parseArgs(argv: string[]): PeerArgs {
  const [model, batch, samples, source] = argv;
  if (!MODELS.includes(model as BenchModel)) throw new Error(`unknown bench model '${model}'`);
  return {
    model: model as BenchModel,
    batch: Number(batch),
    samples: Number(samples),
    source: source ?? "mnist",
  };
}

/** The full data set (so RSS counts all of it) and a training subset of `samples` samples (a view, no copy). */
export async function benchData(args: PeerArgs): Promise<{ full: Dataset; subset: Dataset }> {
  const full = await loadDataset({ source: args.source });
  const n = Math.min(args.samples, full.train.count);
  const size = full.sampleShape.reduce((a, b) => a * b, 1);
  const view = (s: Split, count: number): Split => ({
    x: s.x.subarray(0, count * size),
    scale: s.scale,
    y: s.y.subarray(0, count),
    count,
  });
  const subset: Dataset = {
    ...full,
    train: view(full.train, n),
    validation: view(full.validation, Math.min(1000, full.validation.count)),
  };
  return { full, subset };
}

export interface PeerResult {
  samplesPerSecond: number;
  peakRssMB: number;
  /** Extra figures a peer measured (e.g. inference throughput, tensor counts). */
  extra?: Record<string, number | string>;
}

/** The last stdout line of a peer: bench/run.ts parses it. */
/** Peak RSS so far, MB. */
export const peakRssMB = (): number => process.resourceUsage().maxRSS / 1024;

/** Prints a peer's result; the peak RSS is now's unless given (a peer that measures more after training). */
export function report(r: Omit<PeerResult, "peakRssMB">, peak = peakRssMB()): void {
  console.log(JSON.stringify({ ...r, peakRssMB: peak }));
}
