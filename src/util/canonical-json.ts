// Utilities: one canonical JSON text for values that are hashed (checkpoint fingerprints, experiment cell ids)
// or compared, so that equal settings give equal text whatever order their keys were built in and wherever
// they sit in the source. Pure; no dependencies.

/**
 * Keys that record where something was written in the source, not what it means: a layer's `expandedFrom`
 * holds the spans of the block uses it came from, so a comment above one must not change a hash either.
 */
const POSITION_KEYS = new Set(["span", "argSpans", "expandedFrom"]);

/** A deep copy without `span`/`argSpans`/`expandedFrom` (source positions, not meaning), through JSON: plain data only. */
export function stripSpans<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (key, v: unknown) => (POSITION_KEYS.has(key) ? undefined : v)),
  ) as T;
}

/**
 * JSON without spaces and with every object's keys sorted (by UTF-16 code units), so equal values give the
 * same text. Otherwise as JSON.stringify: keys whose value is undefined are left out, NaN and Infinity are null.
 * Positions are kept: strip them first (stripSpans) when they must not count.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
