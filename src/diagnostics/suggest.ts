// "did you mean ...?" — the closest known name within a small edit distance.
import { distance } from "fastest-levenshtein";

export function closest(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Allow about one edit per three characters: 'dence'->'dense', 'batchnrom'->'batchnorm', not 'x'->'relu'.
  return best !== undefined && bestDistance > 0 && bestDistance <= Math.max(1, Math.floor(name.length / 3))
    ? best
    : undefined;
}

export const didYouMean = (name: string, known: Iterable<string>): string | undefined => {
  const match = closest(name, known);
  return match === undefined ? undefined : `did you mean '${match}'?`;
};
