// Parse phase, middle: ohm's match of grammar/nn.ohm over the tokens -> a flat list of raw entries (items,
// separators, comments, stray '}'), each with its source span. The actions are typed by the generated bundle,
// so a rule whose arity changes fails to type-check here. What the entries mean is decided in parse.ts.
import type { MatchResult, Node } from "ohm-js";
import grammar from "../../grammar/nn.ohm-bundle.js";
import type { Token } from "./lex.ts";
import type { Comment, Span, Value, Word } from "./syntax-tree.ts";

/** A value as matched: strings may lack their closing quote (E102), which the tree's Value does not record. */
export type RawValue =
  | Exclude<Value, { kind: "string" }>
  | { kind: "string"; text: string; value: string; span: Span; unterminated?: true };

export interface RawOption {
  kind: "option";
  key: Word;
  value: RawValue;
  span: Span;
}

export type RawArg = RawValue | RawOption;

export interface RawParam {
  kind: "param";
  name: Word;
  default?: RawValue;
  span: Span;
}

/** A parameter list, attached to args[0] (a word): `basic(filters, stride=1)`. */
export interface RawParams {
  /** The '(' and the ')'. */
  open: Span;
  close: Span;
  list: RawParam[];
}

export interface RawItem {
  kind: "statement";
  head: RawValue;
  args: RawArg[];
  params?: RawParams;
  span: Span;
}

export interface RawBlock {
  kind: "block";
  head: RawValue;
  args: RawArg[];
  params?: RawParams;
  /** The '{'. */
  open: Span;
  entries: RawEntry[];
  /** False when the block ran to the end of the file (E103). */
  closed: boolean;
  span: Span;
}

export type RawEntry =
  | { kind: "item"; item: RawItem | RawBlock }
  | { kind: "semicolon" | "newline" | "stray"; span: Span }
  | { kind: "comment"; comment: Comment };

// The match is over one character per token, so a node's interval is a range of token indexes. The tokens
// and text of the match being walked (set by toRaw; the walk is synchronous).
let tokens: Token[] = [];
let source = "";

/** Source span of a node: from its first token's start to its last token's end. */
function spanOf(node: Node): Span {
  const { startIdx, endIdx } = node.source;
  if (endIdx === startIdx) {
    const at = startIdx < tokens.length ? tokens[startIdx]!.start : source.length;
    return [at, at];
  }
  return [tokens[startIdx]!.start, tokens[endIdx - 1]!.end];
}

const semantics = grammar.createSemantics();

/** A separator or comment entry, told apart by its token rather than by descending into ohm's nodes. */
function gapEntry(node: Node): RawEntry {
  const token = tokens[node.source.startIdx]!;
  const span: Span = [token.start, token.end];
  if (token.kind === "comment")
    return { kind: "comment", comment: { kind: "comment", text: source.slice(span[0], span[1]), span } };
  return { kind: token.kind === ";" ? "semicolon" : "newline", span };
}

semantics.addOperation<RawEntry | RawEntry[]>("entries", {
  file(entries, _end) {
    return entries.children.map((e) => e["entries"]() as RawEntry);
  },
  topEntry_item(item) {
    return { kind: "item", item: item["item"]() };
  },
  topEntry_gap(gap) {
    return gapEntry(gap);
  },
  topEntry_stray(brace) {
    return { kind: "stray", span: spanOf(brace) };
  },
  blockEntry_item(item) {
    return { kind: "item", item: item["item"]() };
  },
  blockEntry_gap(gap) {
    return gapEntry(gap);
  },
});

semantics.addOperation<RawItem | RawBlock>("item", {
  item(head, signature, args, body) {
    const h = valueOf(head.source.startIdx);
    const sig = signature.children[0];
    const params = sig && paramsOf(sig);
    const a = sig ? [valueOf(sig.source.startIdx), ...argsOf(args)] : argsOf(args);
    const withParams = params ? { params } : {};
    const block = body.children[0];
    if (!block) {
      const end = Math.max((a.at(-1) ?? h).span[1], params?.close[1] ?? 0);
      return { kind: "statement", head: h, args: a, ...withParams, span: [h.span[0], end] };
    }
    const [open, entries, close] = block.children as [Node, Node, Node];
    return {
      kind: "block",
      head: h,
      args: a,
      ...withParams,
      open: spanOf(open),
      entries: entries.children.map((e) => e["entries"]() as RawEntry),
      closed: close.children[0]!.ctorName === "blockClose_closed",
      span: [h.span[0], spanOf(close)[1]],
    };
  },
});

/**
 * The args of an item, read from the tokens ohm matched (`w = v` is an option, any other token a value): the
 * grammar has checked their order, and one arg node less per value is a sixth of the parse time.
 */
function argsOf(args: Node): RawArg[] {
  const out: RawArg[] = [];
  for (let i = args.source.startIdx; i < args.source.endIdx; i++) {
    if (tokens[i + 1]?.kind === "=" && i + 1 < args.source.endIdx) {
      const key = valueOf(i) as Word;
      const value = valueOf(i + 2);
      out.push({ kind: "option", key, value, span: [key.span[0], value.span[1]] });
      i += 2;
    } else out.push(valueOf(i));
  }
  return out;
}

/** The parameter list of a signature node (`name ( params? )`), read from its tokens like argsOf. */
function paramsOf(signature: Node): RawParams {
  const { startIdx, endIdx } = signature.source;
  const open = tokens[startIdx + 1]!;
  const close = tokens[endIdx - 1]!;
  const list: RawParam[] = [];
  for (let i = startIdx + 2; i < endIdx - 1; i++) {
    if (tokens[i]!.kind === ",") continue;
    const name = valueOf(i) as Word;
    if (tokens[i + 1]?.kind === "=") {
      const value = valueOf(i + 2);
      list.push({ kind: "param", name, default: value, span: [name.span[0], value.span[1]] });
      i += 2;
    } else list.push({ kind: "param", name, span: name.span });
  }
  return { open: [open.start, open.end], close: [close.start, close.end], list };
}

function valueOf(index: number): RawValue {
  const token = tokens[index]!;
  const span: Span = [token.start, token.end];
  const text = source.slice(token.start, token.end);
  switch (token.kind) {
    case "word":
      return { kind: "word", text, span };
    case "number":
      return { kind: "number", text, value: Number(text), span };
    case "dims":
      return { kind: "dims", text, values: text.split("x").map(Number), span };
    case "string":
      return { kind: "string", text, value: unescape(text.slice(1, -1)), span };
    case "unterminated":
      return { kind: "string", text, value: unescape(text.slice(1)), span, unterminated: true };
    default:
      return { kind: "invalid", text, span };
  }
}

/** The two escapes a string knows: \" and \\ (a lone backslash stays, so Windows paths need no doubling). */
const unescape = (body: string) => body.replace(/\\(["\\])/g, "$1");

export function toRaw(match: MatchResult, matchedTokens: Token[], text: string): RawEntry[] {
  tokens = matchedTokens;
  source = text;
  try {
    return semantics(match)["entries"]() as RawEntry[];
  } finally {
    tokens = [];
    source = "";
  }
}
