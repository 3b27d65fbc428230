// Shared by the parse and format tests: render a parse result as golden text (diagnostics as the CLI prints
// them, uncoloured, then an outline of the tree with spans), and read/write golden fixtures.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderDiagnostics, SourceText } from "../../src/diagnostics/index.ts";
import type { Arg, Item, Param, SourceFile } from "../../src/parse/syntax-tree.ts";
import { parseSource } from "../../src/parse/parse.ts";

export const fixturesDir = (area: string) => new URL(`../fixtures/${area}/`, import.meta.url).pathname;

export function caseNames(area: string): string[] {
  return readdirSync(fixturesDir(area)).sort();
}

/** Compares with (or, under UPDATE_GOLDEN=1, writes) a golden file; returns the expected text. */
export function golden(path: string, actual: string): string {
  if (process.env["UPDATE_GOLDEN"] === "1" || !existsSync(path)) {
    if (process.env["UPDATE_GOLDEN"] !== "1")
      throw new Error(`missing golden file ${path} (run with UPDATE_GOLDEN=1)`);
    writeFileSync(path, actual);
  }
  return readFileSync(path, "utf8");
}

const argText = (a: Arg) => (a.kind === "option" ? `${a.key.text}=${a.value.text}` : `${a.kind}:${a.text}`);
const paramText = (p: Param) =>
  p.default ? `${p.name.text}=${p.default.kind}:${p.default.text}` : p.name.text;

function outlineItems(items: Item[], indent: string): string[] {
  return items.flatMap((item): string[] => {
    const span = `[${item.span[0]},${item.span[1]})`;
    if (item.kind === "comment") return [`${indent}comment ${span} ${JSON.stringify(item.text)}`];
    const trailing = item.trailingComment ? ` trailing ${JSON.stringify(item.trailingComment.text)}` : "";
    if (item.kind === "statement")
      return [[`${indent}statement`, span, item.head.text, ...item.args.map(argText)].join(" ") + trailing];
    const header = item.headerComment ? ` header ${JSON.stringify(item.headerComment.text)}` : "";
    // The name as written, its parameter list attached; any other head argument as a statement's.
    const params = item.params ? `(${item.params.map(paramText).join(", ")})` : "";
    const head = item.args.map((a, i) => (i === 0 && item.name ? `${item.name.text}${params}` : argText(a)));
    return [
      `${indent}block ${span} ${[item.keyword.text, ...head].join(" ")}${header}${trailing}`,
      ...outlineItems(item.items, indent + "  "),
    ];
  });
}

export const outline = (tree: SourceFile) => outlineItems(tree.items, "").join("\n");

/** What a parse fixture's expected.txt holds. */
export function renderParse(text: string, file = "input.nn"): string {
  const { tree, diagnostics } = parseSource(text, file);
  const source = new SourceText(file, text);
  const rendered = renderDiagnostics(source.locate(diagnostics), new Map([[file, source]]), { color: false });
  return `${rendered || "(no diagnostics)"}\n\n--- tree\n${outline(tree)}\n`;
}

export const readCase = (area: string, name: string, file = "input.nn") =>
  readFileSync(join(fixturesDir(area), name, file), "utf8");
