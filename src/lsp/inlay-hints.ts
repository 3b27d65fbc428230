// Language server, inlay hints: the output shape at the end of each layer line (`dense 128 relu  → [?, 128]`),
// of each block use and after each residual's closing brace. Lines inside a block definition get none: their
// shapes differ per use, and each use shows its own.
import { InlayHintKind, type InlayHint } from "vscode-languageserver/node";
import type { Layer } from "../ir/schema.ts";
import type { Block, Item } from "../parse/syntax-tree.ts";
import { formatShape } from "../util/shape.ts";
import { spanKey, type DocumentAnalysis } from "./document.ts";
import { paramsLine } from "./hover.ts";

function label(layers: readonly Layer[]): string | undefined {
  const shapes = [...new Set(layers.flatMap((l) => (l.outputShape ? [formatShape(l.outputShape)] : [])))];
  if (shapes.length === 0) return undefined;
  return `→ ${shapes.length <= 3 ? shapes.join(" | ") : `${shapes.slice(0, 3).join(" | ")} | ...`}`;
}

export function inlayHints(analysis: DocumentAnalysis, start: number, end: number): InlayHint[] {
  if (!analysis.program) return [];
  const hints: InlayHint[] = [];
  const push = (at: number, layers: readonly Layer[], tooltip: string) => {
    if (at < start || at > end) return;
    const text = label(layers);
    if (text) {
      hints.push({
        position: analysis.doc.positionAt(at),
        label: text,
        kind: InlayHintKind.Type,
        paddingLeft: true,
        tooltip,
      });
    }
  };
  const visit = (items: readonly Item[]) => {
    for (const item of items) {
      if (item.kind === "comment") continue;
      if (item.kind === "statement") {
        if (item.span[1] < start || item.span[0] > end) continue;
        const made = analysis.layersBySpan.get(spanKey(item.span));
        const uses = analysis.layersByUse.get(spanKey(item.span));
        if (made?.length) {
          const names = [...new Set(made.map((m) => m.layer.name))];
          push(
            item.span[1],
            made.map((m) => m.layer),
            `${names.slice(0, 4).join(", ")}${names.length > 4 ? ", ..." : ""}: ${paramsLine(made.map((m) => m.layer))}`,
          );
        } else if (uses?.length) {
          push(
            item.span[1],
            [uses[uses.length - 1]!.layer],
            `${uses.length} layers: ${paramsLine(uses.map((u) => u.layer))}`,
          );
        }
        continue;
      }
      const block = item as Block;
      if (block.span[1] < start || block.span[0] > end) continue;
      visit(block.items);
      if (block.keyword.text === "residual") {
        const add = analysis.layersBySpan.get(spanKey(block.keyword.span));
        if (add?.length)
          push(
            block.span[1],
            add.map((a) => a.layer),
            `${add[0]!.layer.name}: the sum of the body and the skip path`,
          );
      }
    }
  };
  for (const item of analysis.tree.items) {
    if (
      item.kind === "block" &&
      (item.keyword.text === "block" || item.keyword.text === "train" || item.keyword.text === "experiment")
    )
      continue;
    visit([item]);
  }
  return hints;
}
