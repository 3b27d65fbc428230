// Format phase, printing: syntax tree -> prettier doc in nnc's canonical style. One item per line, 2-space
// indent per block level at any depth, `key=value`, values exactly as written, a parameter list attached to its
// name (`block basic(filters, stride=1) {`), comments kept where they were (re-indented), blank lines the user
// wrote kept (one at most), one blank line around the blocks a file is made of (model, train, experiment,
// block), none just inside braces.
import { doc, type AstPath, type Doc, type Printer } from "prettier";
import { TOP_LEVEL_KEYWORDS } from "../parse/parse.ts";
import type { Arg, Block, Comment, Item, Param, SourceFile, Statement } from "../parse/syntax-tree.ts";

const { hardline, indent, join } = doc.builders;

export type NnNode = SourceFile | Item;

const argText = (arg: Arg) => (arg.kind === "option" ? `${arg.key.text}=${arg.value.text}` : arg.text);
const paramText = (p: Param) => (p.default ? `${p.name.text}=${p.default.text}` : p.name.text);

/** `block basic(filters, stride=1) {`, `repeat 2 {`, `train {`. */
function blockHead(block: Block): string {
  const [first, ...rest] = block.args.map(argText);
  const params = block.params ? `(${block.params.map(paramText).join(", ")})` : "";
  return [block.keyword.text, ...(first === undefined ? [] : [first + params]), ...rest, "{"].join(" ");
}

/** The blocks a file is made of stand apart; `residual { ... }` among a file's bare layers is one of them. */
const standsApart = (item: Item) => item.kind === "block" && TOP_LEVEL_KEYWORDS.includes(item.keyword.text);

/** Comments print as written, less the spaces (or stray \r) they end with. */
const commentText = (comment: Comment) => comment.text.trimEnd();
const trailing = (item: Statement | Block): Doc =>
  item.trailingComment ? [" ", commentText(item.trailingComment)] : "";

/** Whether the user left a blank line between two items (only whitespace and two newlines between them). */
function blankLineBetween(text: string, previous: Item, next: Item): boolean {
  const end =
    previous.kind === "comment" ? previous.span[1] : (previous.trailingComment?.span[1] ?? previous.span[1]);
  const between = text.slice(end, next.span[0]);
  return /\n[ \t\r\uFEFF;]*\n/.test(between);
}

function printItems(path: AstPath<NnNode>, print: () => Doc, topLevel: boolean): Doc {
  const node = path.node as SourceFile | Block;
  const text = (path.root as SourceFile & { text?: string }).text ?? "";
  const parts: Doc[] = [];
  node.items.forEach((item, i) => {
    if (i > 0) {
      const previous = node.items[i - 1]!;
      // Top-level blocks stand apart; a comment right above a block stays attached to it.
      const apart =
        blankLineBetween(text, previous, item) ||
        (topLevel && (standsApart(previous) || (standsApart(item) && previous.kind !== "comment")));
      parts.push(apart ? [hardline, hardline] : hardline);
    }
    parts.push((path as AstPath<SourceFile | Block>).call(print, "items", i));
  });
  return parts;
}

export const nnPrinter: Printer<NnNode> = {
  print(path, _options, print) {
    const node = path.node;
    switch (node.kind) {
      case "file":
        return node.items.length === 0 ? "" : [printItems(path, print, true), hardline];
      case "comment":
        return commentText(node);
      case "statement":
        return [join(" ", [node.head.text, ...node.args.map(argText)]), trailing(node)];
      case "block": {
        const head = blockHead(node);
        const header = node.headerComment ? [" ", commentText(node.headerComment)] : "";
        if (node.items.length === 0)
          return [head, header, node.headerComment ? hardline : "", "}", trailing(node)];
        return [
          head,
          header,
          indent([hardline, printItems(path, print, false)]),
          hardline,
          "}",
          trailing(node),
        ];
      }
    }
  },
};
