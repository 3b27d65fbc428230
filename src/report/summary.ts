// Reports: experiment results -> statistics per cell group (cells that differ only by repeat): per-epoch mean,
// standard deviation, min and max of validation accuracy and loss (what plots draw), and the final figures
// (what the table shows). Pure; diverged repeats count in the group but not in the means of missing epochs.
import type { CellResult, Results } from "../experiment/results-schema.ts";

export interface Spread {
  mean: number;
  /** Sample standard deviation (n - 1); 0 for one value. */
  sd: number;
  min: number;
  max: number;
  n: number;
}

export interface EpochStats {
  epoch: number;
  valAccuracy?: Spread;
  valLoss?: Spread;
}

export interface GroupSummary {
  group: string;
  model: string;
  varied: Record<string, number | string>;
  lrNote: string;
  cells: CellResult[];
  diverged: number;
  epochs: EpochStats[];
  finalValAccuracy?: Spread;
  bestValAccuracy?: Spread;
  firstEpochValAccuracy?: Spread;
  /** The last epoch's running training accuracy: train mode (batch statistics, dropout on, weights moving). */
  finalTrainAccuracy?: Spread;
  /** `eval_train`: the training set in inference mode after the last epoch (population statistics). */
  finalTrainEvalAccuracy?: Spread;
  /** Over the repeats that reached the target. */
  epochsToTarget?: Spread;
  reachedTarget: number;
  samplesPerSecond?: Spread;
}

export function spread(values: ReadonlyArray<number | null | undefined>): Spread | undefined {
  const xs = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  if (xs.length === 0) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** The epoch a cell's final figures come from (early stopping's restored best, else the last). */
const lastEpochOf = (c: CellResult) =>
  c.history.find((e) => e.epoch === (c.earlyStop?.restored ? c.earlyStop.bestEpoch : undefined)) ??
  c.history.at(-1);

/** Groups in the order their first cell appears in the grid. */
export function summarizeGroups(results: Results): GroupSummary[] {
  const groups = new Map<string, CellResult[]>();
  for (const cell of [...results.cells].sort((a, b) => a.index - b.index)) {
    const list = groups.get(cell.group) ?? [];
    list.push(cell);
    groups.set(cell.group, list);
  }
  return [...groups.entries()].map(([group, cells]) => {
    const maxEpoch = Math.max(0, ...cells.map((c) => c.history.length));
    const epochs: EpochStats[] = [];
    for (let e = 1; e <= maxEpoch; e++) {
      const at = cells.map((c) => c.history.find((h) => h.epoch === e));
      const stats: EpochStats = { epoch: e };
      const acc = spread(at.map((h) => h?.valAccuracy));
      const loss = spread(at.map((h) => h?.valLoss));
      if (acc) stats.valAccuracy = acc;
      if (loss) stats.valLoss = loss;
      epochs.push(stats);
    }
    const summary: GroupSummary = {
      group,
      model: cells[0]!.model,
      varied: cells[0]!.varied,
      lrNote: cells[0]!.lrNote,
      cells,
      diverged: cells.filter((c) => c.status === "diverged").length,
      epochs,
      reachedTarget: cells.filter((c) => typeof c.epochsToTarget === "number").length,
    };
    const set = <K extends keyof GroupSummary>(key: K, value: GroupSummary[K] | undefined) => {
      if (value !== undefined) summary[key] = value;
    };
    // A diverged repeat has no final accuracy worth averaging: it counts as not finished, shown beside.
    const finished = cells.filter((c) => c.status === "ok");
    set("finalValAccuracy", spread(finished.map((c) => c.final.valAccuracy)));
    set("bestValAccuracy", spread(cells.map((c) => c.bestValAccuracy)));
    set("finalTrainAccuracy", spread(finished.map((c) => c.final.accuracy)));
    set("finalTrainEvalAccuracy", spread(finished.map((c) => lastEpochOf(c)?.trainEvalAccuracy)));
    set("firstEpochValAccuracy", spread(cells.map((c) => c.history[0]?.valAccuracy)));
    set("epochsToTarget", spread(cells.map((c) => c.epochsToTarget)));
    set("samplesPerSecond", spread(cells.map((c) => c.samplesPerSecond)));
    return summary;
  });
}
