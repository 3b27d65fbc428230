// Activation watching (`watch` in train, issue 19): every `every` training steps, before the step's update,
// one extra forward in training mode over the step's batch up to the watched node (batchnorm on the batch's
// statistics, the step's own dropout masks), then each unit's percentiles over the batch and positions, averaged
// over the units (or one unit's). The forward reads the weights only: training is the same with or without it.
import * as tf from "@tensorflow/tfjs-core";
import type { Watch, WatchSeries } from "../ir/schema.ts";
import type { Network } from "../lower/network.ts";
import type { Random } from "../util/random.ts";

/**
 * The `p`th percentile (0..100) of `sorted` (ascending) with linear interpolation between the two nearest ranks:
 * numpy.percentile's default, so a figure can be checked against numpy.
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (p / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * The percentiles of `values` (a tensor's data, channels last: `channels` values per position), per channel
 * over the positions, averaged over the channels; with `unit`, that channel's alone.
 */
export function unitPercentiles(
  values: Float32Array,
  channels: number,
  percentiles: readonly number[],
  unit?: number,
): number[] {
  const positions = values.length / channels;
  const column = new Float32Array(positions);
  const sums = percentiles.map(() => 0);
  const units = unit === undefined ? [...Array(channels).keys()] : [unit];
  for (const c of units) {
    for (let i = 0; i < positions; i++) column[i] = values[i * channels + c]!;
    column.sort(); // typed arrays sort numerically (NaN last)
    percentiles.forEach((p, k) => (sums[k]! += percentileOfSorted(column, p)));
  }
  return sums.map((s) => s / units.length);
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Records the watches of one run; `resumed` continues the series of a checkpoint. */
export class WatchRecorder {
  private readonly targets: { watch: Watch; node: number; series: WatchSeries }[];

  constructor(
    private readonly net: Network,
    watches: readonly Watch[],
    resumed: readonly WatchSeries[] = [],
  ) {
    this.targets = watches.map((watch) => {
      const node = net.model.layers.findIndex((l) => l.name === watch.layer);
      // The checker's E238 says so first; an IR from elsewhere reaches this.
      if (node < 0) throw new Error(`internal: watch names no layer of the model: '${watch.layer}'`);
      const before = resumed.find(
        (s) => s.layer === watch.layer && s.side === watch.side && s.unit === watch.unit,
      );
      const series: WatchSeries = {
        layer: watch.layer,
        side: watch.side,
        percentiles: [...watch.percentiles],
        ...(watch.unit !== undefined ? { unit: watch.unit } : {}),
        steps: [...(before?.steps ?? [])],
        values: (before?.values ?? []).map((v) => [...v]),
      };
      return { watch, node, series };
    });
  }

  /** The series so far (live: the recorder appends to them). */
  get series(): WatchSeries[] {
    return this.targets.map((t) => t.series);
  }

  /** Whether step `step` (0-based over the run) is recorded by any watch. */
  due(step: number): boolean {
    return this.targets.some((t) => step % t.watch.every === 0);
  }

  /** Records step `step` from the batch `x` the step trains on, with its dropout streams. */
  record(step: number, x: tf.Tensor, dropoutRng: ((layer: string) => Random) | undefined): void {
    for (const t of this.targets) {
      if (step % t.watch.every !== 0) continue;
      const out = tf.tidy(() =>
        this.net.forward(x, {
          training: true,
          // Batch statistics are computed and dropped: the moving averages are the step's to update.
          bnStats: [],
          ...(dropoutRng ? { dropoutRng } : {}),
          ...(t.watch.side === "input" ? { stop: t.node } : { output: t.node }),
        }),
      );
      const values = out.dataSync() as Float32Array;
      const channels = out.shape[out.shape.length - 1] ?? 1;
      out.dispose();
      const p = unitPercentiles(values, channels, t.watch.percentiles, t.watch.unit);
      t.series.steps.push(step);
      t.series.values.push(p.map(finiteOrNull));
    }
  }
}
