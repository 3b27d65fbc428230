// Language server, go to definition: a model name in `compare` -> its `model NAME {`; a block use -> its
// `block NAME(...) {`; a layer name in `add` / `concat` -> the statement that gives it (`name=NAME`).
import type { Location } from "vscode-languageserver/node";
import type { Block, Item, Statement } from "../parse/syntax-tree.ts";
import { blockUsed, partAt, resolveStatement, statementAt } from "./cursor.ts";
import { rangeOf } from "./diagnostics.ts";
import type { DocumentAnalysis } from "./document.ts";

/** The statement naming a layer `name` among items (residual, shortcut and repeat bodies included). */
function namedStatement(items: readonly Item[], name: string): Statement | undefined {
  for (const item of items) {
    if (item.kind === "statement") {
      if (item.args.some((a) => a.kind === "option" && a.key.text === "name" && a.value.text === name))
        return item;
    } else if (item.kind === "block") {
      const found = namedStatement(item.items, name);
      if (found) return found;
    }
  }
  return undefined;
}

export function definitionAt(analysis: DocumentAnalysis, offset: number): Location | null {
  const place = statementAt(analysis, offset);
  if (!place) return null;
  const at = (
    block: Block | Statement,
    span = block.kind === "block" ? (block.name ?? block.keyword).span : block.span,
  ) => ({
    uri: analysis.uri,
    range: rangeOf(analysis.doc, span),
  });
  const part = partAt(place.stmt, offset);
  if (part?.kind === "head") {
    const block = blockUsed(analysis, place);
    return block ? at(block) : null;
  }
  if (part?.kind !== "positional" || (part.value.kind !== "word" && part.value.kind !== "string"))
    return null;
  const name = part.value.kind === "string" ? part.value.value : part.value.text;
  const resolved = resolveStatement(place);
  if (!resolved) return null;
  const { sig } = resolved;
  if (sig.name === "compare") {
    const model = analysis.models.find((m) => m.name?.text === name);
    return model ? at(model) : null;
  }
  if (sig.context === "layer" && sig.positional.some((p) => p.type.kind === "name")) {
    const stmt = namedStatement(place.owner ? place.owner.items : analysis.tree.items, name);
    return stmt ? at(stmt) : null;
  }
  return null;
}
