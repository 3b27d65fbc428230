// Language server, analysis: one open document's text -> what every feature reads. The compiler's own front
// end (analyze() of src/compile.ts: tree, checked program, diagnostics) plus the checks `nnc check` adds for a
// program that compiles (its data's metadata, its experiments' grids), and an index of the tree: where each
// statement stands (model, block definition, train, experiment), which layers each statement made.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { TextDocument } from "vscode-languageserver-textdocument";
import { defaultModelName } from "../build/build.ts";
import type { Context } from "../build/signatures.ts";
import { checkData } from "../check/data-fit.ts";
import { analyze } from "../compile.ts";
import { diagnostic, NncError, SourceText, sortDiagnostics, type Diagnostic } from "../diagnostics/index.ts";
import { expandGrid } from "../experiment/grid.ts";
import type { Layer, Model, Program, Span } from "../ir/schema.ts";
import type { Block, Item, SourceFile, Statement } from "../parse/syntax-tree.ts";

/** A statement and where it stands. */
export interface StatementPlace {
  stmt: Statement;
  /** What the statement may be: a layer, a train setting, an experiment (or train) setting. */
  context: Context;
  /** The `model` or `block` definition it is in (a bare layer at the top level: none). */
  owner?: Block;
  /** Blocks around it, outermost first (model, residual, repeat, ...). */
  path: Block[];
}

export interface DocumentAnalysis {
  uri: string;
  version: number;
  doc: TextDocument;
  /** The path compile() was given (a file: URI's path), which names a file's anonymous model. */
  filename: string;
  /** compile()'s verdict: no errors, and a checked program. */
  ok: boolean;
  tree: SourceFile;
  /** The checked program, also where it has errors (shapes filled where known); absent without one. */
  program?: Program;
  diagnostics: Diagnostic[];
  statements: StatementPlace[];
  /** Top-level blocks by keyword. */
  models: Block[];
  blockDefinitions: Map<string, Block>;
  experiments: Block[];
  trainBlocks: Block[];
  /** The model of a file of bare layers (named after the file), when the file has no model blocks. */
  anonymousModel?: string;
  /** Layers by the span of the statement (or residual keyword) that made them, with their model. */
  layersBySpan: Map<string, { model: Model; layer: Layer }[]>;
  /** Layers by the span of a block use or repeat they were expanded from. */
  layersByUse: Map<string, { model: Model; layer: Layer }[]>;
}

export const spanKey = (span: Span): string => `${span[0]}:${span[1]}`;

/** The path compile() gets for a document: a file's path, or the URI itself (untitled:, ...). */
export function filenameOf(uri: string): string {
  if (!uri.startsWith("file:")) return uri;
  try {
    return fileURLToPath(uri);
  } catch {
    return uri;
  }
}

function indexTree(tree: SourceFile) {
  const statements: StatementPlace[] = [];
  const models: Block[] = [];
  const blockDefinitions = new Map<string, Block>();
  const experiments: Block[] = [];
  const trainBlocks: Block[] = [];
  const walk = (items: Item[], context: Context, owner: Block | undefined, path: Block[]) => {
    for (const item of items) {
      if (item.kind === "statement")
        statements.push({ stmt: item, context, ...(owner ? { owner } : {}), path });
      else if (item.kind === "block") walk(item.items, context, owner, [...path, item]);
    }
  };
  for (const item of tree.items) {
    if (item.kind === "statement") statements.push({ stmt: item, context: "layer", path: [] });
    if (item.kind !== "block") continue;
    const keyword = item.keyword.text;
    if (keyword === "model") {
      models.push(item);
      walk(item.items, "layer", item, [item]);
    } else if (keyword === "block") {
      if (item.name && !blockDefinitions.has(item.name.text)) blockDefinitions.set(item.name.text, item);
      walk(item.items, "layer", item, [item]);
    } else if (keyword === "train") {
      trainBlocks.push(item);
      walk(item.items, "train", undefined, [item]);
    } else if (keyword === "experiment") {
      experiments.push(item);
      walk(item.items, "experiment", undefined, [item]);
    } else walk(item.items, "layer", undefined, [item]); // residual { } or repeat among bare layers
  }
  return { statements, models, blockDefinitions, experiments, trainBlocks };
}

function indexLayers(program: Program | undefined) {
  const layersBySpan = new Map<string, { model: Model; layer: Layer }[]>();
  const layersByUse = new Map<string, { model: Model; layer: Layer }[]>();
  const add = (map: typeof layersBySpan, key: string, entry: { model: Model; layer: Layer }) => {
    const list = map.get(key);
    if (list) list.push(entry);
    else map.set(key, [entry]);
  };
  for (const model of program?.models ?? []) {
    for (const layer of model.layers) {
      if (layer.span) add(layersBySpan, spanKey(layer.span), { model, layer });
      for (const use of layer.expandedFrom ?? []) add(layersByUse, spanKey(use), { model, layer });
    }
  }
  return { layersBySpan, layersByUse };
}

/**
 * The compiler's view of a document, without the file system: compile()'s diagnostics as they are. Throws only
 * for a bug in nnc (as compile() does).
 */
export function analyzeDocument(doc: TextDocument): DocumentAnalysis {
  const filename = filenameOf(doc.uri);
  const text = doc.getText();
  const result = analyze(text, { filename });
  const index = indexTree(result.tree);
  return {
    uri: doc.uri,
    version: doc.version,
    doc,
    filename,
    ok: result.ok,
    tree: result.tree,
    ...(result.program ? { program: result.program } : {}),
    diagnostics: result.diagnostics,
    ...index,
    ...(index.models.length === 0 ? { anonymousModel: defaultModelName(filename) } : {}),
    ...indexLayers(result.program),
  };
}

/**
 * What `nnc check` adds for a program that compiles: its data against the models (metadata only, paths
 * relative to the spec's folder) and its experiments' grids. Located in the document, sorted with the rest.
 */
export async function withRunChecks(analysis: DocumentAnalysis, ok: boolean): Promise<Diagnostic[]> {
  const program = analysis.program;
  if (!ok || !program) return analysis.diagnostics;
  const source = new SourceText(analysis.filename, analysis.doc.getText());
  const baseDir = analysis.uri.startsWith("file:") ? dirname(analysis.filename) : process.cwd();
  const extra: Diagnostic[] = [];
  for (const d of await checkData(program, { baseDir })) extra.push({ ...d, file: analysis.filename });
  for (const experiment of program.experiments) {
    try {
      expandGrid(program, experiment);
    } catch (e) {
      if (!(e instanceof NncError)) throw e;
      extra.push({ ...e.diagnostic, file: analysis.filename });
    }
  }
  return sortDiagnostics([...analysis.diagnostics, ...source.locate(extra)]);
}

/** A diagnostic for a bug in nnc met while analysing (E700): shown in the editor instead of a crash. */
export function internalErrorDiagnostic(e: unknown): Diagnostic {
  const reason = e instanceof Error ? e.message : String(e);
  return diagnostic("E700", { reason }, { span: [0, 0] });
}
