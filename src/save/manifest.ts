// Saving: the run manifest (manifest.json) — what is needed to reproduce a training run: which spec (by hash),
// model, seed, settings, data, backend and package versions, when, and the command line.
import { createRequire } from "node:module";
import type { DataRef, Train } from "../ir/schema.ts";
import { VERSION } from "../version.ts";
import { selectedBackend } from "../runtime/backend.ts";
import { stripSpans } from "../util/canonical-json.ts";

export interface RunManifest {
  nnc: string;
  spec: { file: string; sha256: string };
  model: string;
  seed: number;
  /** The train settings the run used (the spec's, with command-line overrides), without source spans. */
  train: Train;
  data: { source: string; description?: string; options: Omit<DataRef, "span"> };
  backend: { name: string; detail?: string };
  /** Training threads (data-parallel when more than one: same results up to float rounding, not bit for bit). */
  threads?: number;
  versions: { node: string; packages: Record<string, string> };
  platform: { os: string; arch: string };
  /** nnc train --init-from: the model folder the starting weights came from, and how many. */
  initFrom?: { dir: string; weights: number };
  startedAt: string;
  finishedAt: string;
  argv: string[];
}

export interface ManifestInput {
  specFile: string;
  specHash: string;
  model: string;
  train: Train;
  backend: string;
  threads?: number;
  /** Human description of the data set (Dataset.description). */
  data?: string;
  startedAt: Date;
  /** Defaults to now. */
  finishedAt?: Date;
  argv: string[];
  initFrom?: { dir: string; weights: number };
}

const PACKAGES = [
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-layers",
  "@tensorflow/tfjs-node",
];

/** Installed versions of the tfjs packages that can affect numbers (absent ones are left out). */
export function packageVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const versions: Record<string, string> = {};
  for (const name of PACKAGES) {
    try {
      versions[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      // not installed (tfjs-node usually)
    }
  }
  return versions;
}

export function makeManifest(input: ManifestInput): RunManifest {
  const train = stripSpans(input.train);
  const selected = selectedBackend();
  return {
    nnc: VERSION,
    spec: { file: input.specFile, sha256: input.specHash },
    model: input.model,
    seed: train.seed,
    train,
    data: {
      source: train.data.source,
      ...(input.data !== undefined ? { description: input.data } : {}),
      options: train.data,
    },
    backend: {
      name: input.backend,
      ...(selected?.name === input.backend ? { detail: selected.detail } : {}),
    },
    ...(input.threads !== undefined ? { threads: input.threads } : {}),
    ...(input.initFrom ? { initFrom: { ...input.initFrom } } : {}),
    versions: { node: process.version, packages: packageVersions() },
    platform: { os: process.platform, arch: process.arch },
    startedAt: input.startedAt.toISOString(),
    finishedAt: (input.finishedAt ?? new Date()).toISOString(),
    argv: [...input.argv],
  };
}
