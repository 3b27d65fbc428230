// Data layer: deterministic, class-stratified selection of samples (the test split of embedded data,
// `validation=` hold-outs, `limit=` subsets). Every choice comes from one fixed split seed, never the
// training seed, so every run of every spec sees the same test and validation samples.
import { Random } from "../util/random.ts";
import type { Split } from "./types.ts";

/** Fixed forever: changing it would change every data set's test/validation split. */
export const SPLIT_SEED = 0x6e6e63; // "nnc"

/** The split stream for one purpose, e.g. "mnist:test", "validation", "limit". */
export const splitRandom = (purpose: string): Random => new Random(SPLIT_SEED).fork(purpose);

export interface Pick {
  /** Chosen sample indices, ascending (source order kept). */
  picked: Int32Array;
  /** The others, ascending. */
  rest: Int32Array;
}

/**
 * Chooses `take` samples so every class keeps its share: class c gets floor(take * n_c / N), and the samples
 * left over go to the classes with the largest remainders (ties: lower class first), so the total is exact.
 * Within a class the chosen samples are a uniformly random subset drawn from `rng`.
 */
export function stratifiedPick(labels: ArrayLike<number>, take: number, rng: Random): Pick {
  const n = labels.length;
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    let members = byClass.get(c);
    if (!members) byClass.set(c, (members = []));
    members.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const quota = classes.map((c) => (take * byClass.get(c)!.length) / n);
  const counts = quota.map(Math.floor);
  let left = take - counts.reduce((a, b) => a + b, 0);
  const order = classes
    .map((_, k) => k)
    .sort((a, b) => quota[b]! - counts[b]! - (quota[a]! - counts[a]!) || a - b);
  for (const k of order) {
    if (left === 0) break;
    counts[k]!++;
    left--;
  }
  const chosen = new Uint8Array(n);
  classes.forEach((c, k) => {
    const members = byClass.get(c)!;
    rng.shuffle(members);
    for (let j = 0; j < counts[k]!; j++) chosen[members[j]!] = 1;
  });
  const picked = new Int32Array(take);
  const rest = new Int32Array(n - take);
  for (let i = 0, p = 0, r = 0; i < n; i++) {
    if (chosen[i]) picked[p++] = i;
    else rest[r++] = i;
  }
  return { picked, rest };
}

/** A new split holding copies of the given samples, in the given order, stored as the source stores them. */
export function gatherSplit(split: Split, indices: ArrayLike<number>, sampleSize: number): Split {
  const count = indices.length;
  // Same element type and scale as the source: bytes stay bytes (a quarter of float32's memory).
  const x =
    split.x instanceof Uint8Array ? new Uint8Array(count * sampleSize) : new Float32Array(count * sampleSize);
  const y = split.y instanceof Uint8Array ? new Uint8Array(count) : new Int32Array(count);
  for (let j = 0; j < count; j++) {
    const i = indices[j]!;
    x.set(split.x.subarray(i * sampleSize, (i + 1) * sampleSize), j * sampleSize);
    y[j] = split.y[i]!;
  }
  return withOrigin({ x, scale: split.scale, y, count }, split.origin);
}

/**
 * Keeps only the given samples (ascending indices), moving them forward in place: no second copy of a large
 * training set. The split passed in is consumed (its arrays are reused by the result).
 */
export function compactSplit(split: Split, ascending: ArrayLike<number>, sampleSize: number): Split {
  const count = ascending.length;
  for (let j = 0; j < count; j++) {
    const i = ascending[j]!;
    if (i !== j) {
      split.x.copyWithin(j * sampleSize, i * sampleSize, (i + 1) * sampleSize);
      split.y[j] = split.y[i]!;
    }
  }
  return withOrigin(
    { x: split.x.subarray(0, count * sampleSize), scale: split.scale, y: split.y.subarray(0, count), count },
    split.origin,
  );
}

function withOrigin(split: Split, origin: string | undefined): Split {
  if (origin !== undefined) split.origin = origin;
  return split;
}

/** Samples per class, indexed by class. */
export function classCounts(y: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]!] = (counts[y[i]!] ?? 0) + 1;
  return counts;
}
