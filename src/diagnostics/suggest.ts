// "did you mean ...?" — the closest known name within a small edit distance, where swapping two adjacent
// letters ('rleu' for 'relu', 'modle' for 'model') counts as one edit, as people mistype.
import { distance } from "fastest-levenshtein";

/** True when b is a with exactly one pair of adjacent letters swapped. */
function isAdjacentSwap(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  let i = 0;
  while (a[i] === b[i]) i++;
  return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

export function closest(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const d = isAdjacentSwap(lower, c) ? 1 : distance(lower, c);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Allow about one edit per three characters: 'dence'->'dense', 'batchnrom'->'batchnorm', not 'x'->'relu'.
  return best !== undefined && best !== name && bestDistance <= Math.max(1, Math.floor(name.length / 3))
    ? best
    : undefined;
}

export const didYouMean = (name: string, known: Iterable<string>): string | undefined => {
  const match = closest(name, known);
  return match === undefined ? undefined : `did you mean '${match}'?`;
};
