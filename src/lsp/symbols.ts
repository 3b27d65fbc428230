// Language server, document symbols: the outline of a spec — models with their layers (each with the shapes
// it makes), block definitions with their signatures, the train block and experiments with their settings.
import { SymbolKind, type DocumentSymbol } from "vscode-languageserver/node";
import type { Block, Item, Statement } from "../parse/syntax-tree.ts";
import { formatShape } from "../util/shape.ts";
import { blockSignature } from "./cursor.ts";
import { rangeOf } from "./diagnostics.ts";
import { spanKey, type DocumentAnalysis } from "./document.ts";
import { paramsLine } from "./hover.ts";

/** A statement as written, on one line and not too long for an outline. */
function statementText(analysis: DocumentAnalysis, stmt: Statement): string {
  const text = analysis.doc.getText().slice(stmt.span[0], stmt.span[1]).replace(/\s+/g, " ").trim();
  return (text.length > 60 ? `${text.slice(0, 57)}...` : text) || stmt.head.text || "?";
}

function layerDetail(analysis: DocumentAnalysis, stmt: Statement): string {
  const made = analysis.layersBySpan.get(spanKey(stmt.span)) ?? [];
  const uses = analysis.layersByUse.get(spanKey(stmt.span)) ?? [];
  const last = made.at(-1)?.layer ?? uses.at(-1)?.layer;
  if (!last) return "";
  const shape = last.outputShape ? formatShape(last.outputShape) : "";
  return made.length === 1 ? `${last.name} ${shape}`.trim() : shape;
}

/**
 * At most this many symbols: an outline of a generated 20,000-layer model is of no use to read, and 500,000
 * statements (a megabyte of `a;`) would be a 100 MB answer.
 */
export const MAX_SYMBOLS = 5000;

/** Symbols still to give, shared by one answer's walk. */
interface Budget {
  left: number;
}

function itemSymbols(
  analysis: DocumentAnalysis,
  items: readonly Item[],
  layers: boolean,
  budget: Budget,
): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const item of items) {
    if (item.kind === "comment") continue;
    if (budget.left <= 0) break;
    budget.left--;
    if (item.kind === "statement") {
      out.push({
        name: statementText(analysis, item),
        detail: layers ? layerDetail(analysis, item) : "",
        kind: layers ? SymbolKind.Field : SymbolKind.Property,
        range: rangeOf(analysis.doc, item.span),
        selectionRange: rangeOf(analysis.doc, item.head.span),
      });
      continue;
    }
    const head = [
      item.keyword.text,
      ...item.args.map((a) => (a.kind === "option" ? `${a.key.text}=${a.value.text}` : a.text)),
    ];
    out.push({
      name: head.join(" "),
      detail: "",
      kind: SymbolKind.Namespace,
      range: rangeOf(analysis.doc, item.span),
      selectionRange: rangeOf(analysis.doc, item.keyword.span),
      children: itemSymbols(analysis, item.items, layers, budget),
    });
  }
  return out;
}

function blockSymbol(analysis: DocumentAnalysis, block: Block, budget: Budget): DocumentSymbol {
  const keyword = block.keyword.text;
  const name = block.name?.text;
  const selection = rangeOf(analysis.doc, (block.name ?? block.keyword).span);
  const range = rangeOf(analysis.doc, block.span);
  if (keyword === "model") {
    const model = analysis.program?.models.find((m) => m.name === name);
    return {
      name: name ?? "model",
      detail: model ? `model, ${model.layers.length} layers, ${paramsLine(model.layers)}` : "model",
      kind: SymbolKind.Class,
      range,
      selectionRange: selection,
      children: itemSymbols(analysis, block.items, true, budget),
    };
  }
  if (keyword === "block") {
    return {
      name: name ?? "block",
      detail: blockSignature(block),
      kind: SymbolKind.Function,
      range,
      selectionRange: selection,
      children: itemSymbols(analysis, block.items, false, budget),
    };
  }
  return {
    name: name ? `${keyword} ${name}` : keyword,
    detail: keyword,
    kind: keyword === "experiment" ? SymbolKind.Event : SymbolKind.Module,
    range,
    selectionRange: selection,
    children: itemSymbols(analysis, block.items, keyword !== "train" && keyword !== "experiment", budget),
  };
}

export function documentSymbols(analysis: DocumentAnalysis): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  const budget: Budget = { left: MAX_SYMBOLS };
  for (const item of analysis.tree.items) {
    if (budget.left <= 0) break;
    if (item.kind === "block") {
      budget.left--;
      out.push(blockSymbol(analysis, item, budget));
    } else out.push(...itemSymbols(analysis, [item], true, budget));
  }
  return out;
}
