// Data layer: where an `idx:`/`csv:` reference points. Paths in a spec are relative to the spec; whatever
// reads the data elsewhere (an experiment's workers, a saved ir.json, `--data` from the shell) needs them
// resolved against the right folder first. Takes a DataRef; gives one whose path is absolute.
import { isAbsolute, resolve } from "node:path";
import type { DataRef } from "../ir/schema.ts";

/** The kind and path of an `idx:PATH` / `csv:PATH` source (prefix in any case, spaces trimmed); else undefined. */
export function pathSource(source: string): { kind: "idx" | "csv"; path: string } | undefined {
  const text = source.trim();
  const kind = text.slice(0, 3).toLowerCase();
  if ((kind === "idx" || kind === "csv") && text[3] === ":") return { kind, path: text.slice(4).trim() };
  return undefined;
}

/**
 * `ref` with a relative idx:/csv: path resolved against `baseDir` (the spec's folder, or the working folder
 * for a path given on the command line). Named sources, absolute paths and an empty path (left for
 * loadDataset's E511) come back unchanged.
 */
export function resolveDataPaths(ref: DataRef, baseDir: string): DataRef {
  const found = pathSource(ref.source);
  if (!found || found.path === "" || isAbsolute(found.path)) return ref;
  return { ...ref, source: `${found.kind}:${resolve(baseDir, found.path)}` };
}
