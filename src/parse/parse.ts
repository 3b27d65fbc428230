// Parse phase: .nn source text -> syntax tree (src/parse/syntax-tree.ts) plus every syntax diagnostic (E0xx/E1xx).
// lex.ts makes tokens, ohm matches them (grammar/nn.ohm), actions.ts turns the match into raw entries; shapeFile()
// below attaches comments, checks block heads and nesting, and reports what the permissive grammar let through.
// Never throws on user input: a failed match is reported (E100), blanked out and matched again, so one run
// reports all the syntax errors of a file.
import grammar from "../../grammar/nn.ohm-bundle.js";
import { diagnostic, sortDiagnostics, type Diagnostic } from "../diagnostics/index.ts";
import { lex } from "./lex.ts";
import { toRaw, type RawBlock, type RawEntry, type RawItem, type RawValue } from "./actions.ts";
import type { Block, Comment, Item, SourceFile, Span, Statement, Value, Word } from "./syntax-tree.ts";

export interface ParseResult {
  tree: SourceFile;
  diagnostics: Diagnostic[];
}

/** A file with more failed matches than this is not worth more messages (and each costs a re-match). */
const MAX_RECOVERIES = 50;

export function parseSource(text: string, file?: string): ParseResult {
  const extras = file === undefined ? {} : { file };
  const empty: SourceFile = { kind: "file", items: [], span: [0, text.length] };

  // Control characters mean binary data. Not U+FFFD: it is valid text, and compileFile already rejects bytes
  // that are not UTF-8 before decoding (where a lenient decoder would have made U+FFFD).
  const binaryAt = /[\x00-\x08\x0B\x0C\x0E-\x1F]/.exec(text);
  if (binaryAt) {
    const offset = Buffer.byteLength(text.slice(0, binaryAt.index), "utf8");
    return { tree: empty, diagnostics: [diagnostic("E002", { offset }, extras)] };
  }

  const diagnostics: Diagnostic[] = [];
  let current = text;
  for (let attempt = 0; ; attempt++) {
    const { tokens, codes } = lex(current);
    const result = grammar.match(codes);
    if (!result.failed()) {
      const shaped = shapeFile(toRaw(result, tokens, current), text.length, extras);
      return { tree: shaped.tree, diagnostics: distinct([...diagnostics, ...shaped.diagnostics], text) };
    }
    const failed = result.getRightmostFailurePosition();
    const at = failed < tokens.length ? tokens[failed]!.start : current.length;
    const found = foundAt(current, at);
    diagnostics.push(
      diagnostic(
        "E100",
        { expected: expectedAt(current, at, result.getExpectedText()), found: found.text },
        { ...extras, span: [at, at + found.length] },
      ),
    );
    const blank = recoveryRange(current, at);
    if (blank && attempt + 1 >= MAX_RECOVERIES) {
      // Say so, or the reader takes the list for complete.
      const end = at + found.length;
      diagnostics.push(diagnostic("E107", { count: MAX_RECOVERIES }, { ...extras, span: [end, end] }));
    }
    if (!blank || attempt + 1 >= MAX_RECOVERIES)
      return { tree: empty, diagnostics: distinct(diagnostics, text) };
    for (const [start, end] of blank)
      current =
        current.slice(0, start) + current.slice(start, end).replace(/[^\n\r]/g, " ") + current.slice(end);
  }
}

/**
 * Top to bottom, each problem once (a blanked-out region could otherwise be blamed again): at most one syntax
 * error (E100) per position, and one per line for a message that repeats along the line (a line of 5,000 '{'
 * is one mistake, not fifty).
 */
function distinct(diags: Diagnostic[], text: string): Diagnostic[] {
  const seen = new Set<string>();
  let previous: { line: number; message: string } | undefined;
  return sortDiagnostics(diags).filter((d) => {
    const key = d.code === "E100" ? `E100@${d.span?.[0]}` : `${d.code}@${d.span?.[0]}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    if (d.code !== "E100" || !d.span) return true;
    const line = lineOf(text, d.span[0]);
    const repeat = previous?.line === line && previous.message === d.message;
    previous = { line, message: d.message };
    return !repeat;
  });
}

const lineOf = (text: string, offset: number): number => {
  let line = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
};

// ---- E100: what ohm expected, and what it found instead

/** The token at a failure position, as a message quotes it. */
function foundAt(text: string, at: number): { text: string; length: number } {
  if (at >= text.length) return { text: "end of file", length: 0 };
  if (text[at] === "\n" || text.startsWith("\r\n", at)) return { text: "end of line", length: 0 };
  const token = /^[^\s;{}#="]+/.exec(text.slice(at, at + 200))?.[0] ?? text[at]!;
  return { text: `'${token}'`, length: token.length };
}

/**
 * ohm lists everything that could have come next, including the catch-alls of the permissive grammar; a reader
 * needs the few that make sense there. Failures in this grammar are few: a missing value after '=', a stray
 * '=', or a '{' with no keyword.
 */
function expectedAt(text: string, at: number, ohmText: string): string {
  let before = at - 1;
  while (before >= 0 && (text[before] === " " || text[before] === "\t")) before--;
  if (text[before] === "=") return "a value after '='";
  if (text[at] === "{") return "a block keyword before '{' (e.g. model NAME {)";
  if (text[at] === "=") return "an option name before '=' (options are written key=value)";
  const useful = ohmText
    .split(/, or |, | or /)
    .filter((t) => !["a word", "a comment", '"}"', '"{"', "end of input"].includes(t));
  const names = useful.map((t) => (t === '";"' ? "';'" : t));
  if (names.length === 0) return "a statement";
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

// ---- recovery: which text to blank out after a failed match

interface LineTokens {
  /** Offsets of ';', '{', '}' outside strings and comments. */
  separators: number[];
  /** Offset of a comment's '#', or the line's end. */
  contentEnd: number;
}

function scanLine(text: string, start: number, end: number): LineTokens {
  const separators: number[] = [];
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "#") return { separators, contentEnd: i };
    else if (c === ";" || c === "{" || c === "}") separators.push(i);
  }
  return { separators, contentEnd: end };
}

/**
 * The statement around a failure (from the previous separator on its line to the next one), or, when the
 * failure is a '{' with nothing before it, that '{' and its matching '}' (so its items are matched as
 * top-level items instead of one error per line). A block head before '{' is kept: the text from the failure
 * to the '{' goes. Undefined when nothing can be blanked (so recovery cannot loop).
 */
function recoveryRange(text: string, at: number): Array<[number, number]> | undefined {
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  let lineEnd = text.indexOf("\n", at);
  if (lineEnd < 0) lineEnd = text.length;
  if (text[lineEnd - 1] === "\r") lineEnd--;
  const { separators, contentEnd } = scanLine(text, lineStart, lineEnd);
  const segStart = Math.max(lineStart, ...separators.filter((s) => s < at).map((s) => s + 1));
  const next = separators.find((s) => s >= at);
  const segEnd = Math.min(next ?? contentEnd, contentEnd);
  const start = next !== undefined && next === segEnd && text[next] === "{" && at < next ? at : segStart;
  if (/\S/.test(text.slice(start, segEnd))) return [[start, segEnd]];
  if (text[at] === "{") {
    const close = matchingClose(text, at);
    return close === undefined
      ? [[at, at + 1]]
      : [
          [at, at + 1],
          [close, close + 1],
        ];
  }
  return undefined;
}

function matchingClose(text: string, open: number): number | undefined {
  let depth = 0;
  let inString = false;
  let inComment = false;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") {
      inString = false;
      inComment = false;
    } else if (inComment) continue;
    else if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "#") inComment = true;
    else if (c === "{") depth++;
    else if (c === "}") {
      if (depth === 0) return i;
      depth--;
    }
  }
  return undefined;
}

// ---- shaping: raw entries -> items, with the checks the grammar leaves to us

interface Extras {
  file?: string;
}

function shapeFile(entries: RawEntry[], length: number, extras: Extras): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const report = (d: Diagnostic) => diagnostics.push(d);
  const items = shapeEntries(entries, undefined, extras, report);
  return { tree: { kind: "file", items, span: [0, length] }, diagnostics };
}

/** The words a head or name must be; anything else is reported once, here. */
function checkValue(value: RawValue, extras: Extras, report: (d: Diagnostic) => void): void {
  if (value.kind === "invalid") {
    // A token that starts like a number was meant as one; anything else is a word with a stray character.
    if (/^[-+]?\.?\d/.test(value.text))
      report(diagnostic("E101", { text: value.text }, { ...extras, span: value.span }));
    else report(diagnostic("E106", { text: value.text }, { ...extras, span: value.span }));
  } else if (value.kind === "string" && value.unterminated) {
    report(diagnostic("E102", {}, { ...extras, span: value.span }));
  }
}

const quote = (v: { text: string }) => `'${v.text}'`;

function shapeEntries(
  entries: RawEntry[],
  parent: Block | undefined,
  extras: Extras,
  report: (d: Diagnostic) => void,
): Item[] {
  const items: Item[] = [];
  // The item a comment on the same line belongs to; "head" is the '{' line of the enclosing block.
  let lastOnLine: Statement | Block | "head" | undefined = parent ? "head" : undefined;
  let previousWasItem = false;
  const queue = [...entries];
  for (let entry = queue.shift(); entry; entry = queue.shift()) {
    switch (entry.kind) {
      case "newline":
        lastOnLine = undefined;
        previousWasItem = false;
        break;
      case "semicolon":
        previousWasItem = false;
        break;
      case "stray":
        report(diagnostic("E104", {}, { ...extras, span: entry.span }));
        previousWasItem = false;
        break;
      case "comment": {
        const comment: Comment = entry.comment;
        if (lastOnLine === "head" && parent && !parent.headerComment) parent.headerComment = comment;
        else if (lastOnLine && lastOnLine !== "head" && !lastOnLine.trailingComment)
          lastOnLine.trailingComment = comment;
        else items.push(comment);
        lastOnLine = undefined;
        previousWasItem = false;
        break;
      }
      case "item": {
        const raw = entry.item;
        if (previousWasItem)
          report(
            diagnostic(
              "E100",
              { expected: "a newline or ';'", found: quote(raw.head) },
              { ...extras, span: raw.head.span },
            ),
          );
        const item =
          raw.kind === "statement"
            ? shapeStatement(raw, extras, report)
            : shapeBlock(raw, parent, queue, extras, report);
        if (item) {
          items.push(item);
          lastOnLine = item;
        } else lastOnLine = undefined;
        // An unclosed block ends where the file (or the split before a nested block) does: no separator due.
        previousWasItem = raw.kind === "statement" || raw.closed;
        break;
      }
    }
  }
  return items;
}

function shapeStatement(
  raw: RawItem,
  extras: Extras,
  report: (d: Diagnostic) => void,
): Statement | undefined {
  checkValue(raw.head, extras, report);
  for (const arg of raw.args) checkValue(arg.kind === "option" ? arg.value : arg, extras, report);
  if (raw.head.kind !== "word") {
    if (raw.head.kind !== "invalid" && !(raw.head.kind === "string" && raw.head.unterminated))
      report(
        diagnostic(
          "E100",
          { expected: "a statement (a word such as dense)", found: quote(raw.head) },
          { ...extras, span: raw.head.span },
        ),
      );
    return undefined;
  }
  return { kind: "statement", head: raw.head, args: raw.args.map(cleanArg), span: raw.span };
}

const cleanValue = (v: RawValue): Value => {
  if (v.kind !== "string") return v;
  return { kind: "string", text: v.text, value: v.value, span: v.span };
};
const cleanArg = (a: RawItem["args"][number]) =>
  a.kind === "option" ? { ...a, value: cleanValue(a.value) } : cleanValue(a);

function shapeBlock(
  raw: RawBlock,
  parent: Block | undefined,
  queue: RawEntry[],
  extras: Extras,
  report: (d: Diagnostic) => void,
): Block | undefined {
  checkValue(raw.head, extras, report);
  let entries = raw.entries;
  // A block left open before another block most likely lacks its '}' there, not the whole rest of the file:
  // the first nested block and what follows go back to the enclosing level (no E105 for them).
  if (!raw.closed) {
    const nested = entries.findIndex((e) => e.kind === "item" && e.item.kind === "block");
    if (nested >= 0) {
      queue.unshift(...entries.slice(nested));
      entries = entries.slice(0, nested);
    }
  }
  const keyword = raw.head.kind === "word" ? raw.head : undefined;
  if (!keyword) {
    if (raw.head.kind !== "invalid" && !(raw.head.kind === "string" && raw.head.unterminated))
      report(
        diagnostic(
          "E100",
          { expected: "a block keyword (model, train or experiment)", found: quote(raw.head) },
          { ...extras, span: raw.head.span },
        ),
      );
  } else if (!raw.closed) {
    report(diagnostic("E103", { keyword: keyword.text }, { ...extras, span: keyword.span }));
  }
  if (keyword && parent)
    report(diagnostic("E105", { keyword: keyword.text }, { ...extras, span: keyword.span }));

  const [first, ...extra] = raw.args;
  let name: Word | undefined;
  for (const arg of raw.args) checkValue(arg.kind === "option" ? arg.value : arg, extras, report);
  if (first?.kind === "word") name = first;
  else if (first && first.kind !== "invalid" && !(first.kind === "string" && first.unterminated))
    report(
      diagnostic(
        "E100",
        {
          expected: "a block name (a word) or '{'",
          found: quote(first.kind === "option" ? first.key : first),
        },
        { ...extras, span: first.span },
      ),
    );
  const unexpected = first?.kind === "word" ? extra[0] : undefined;
  if (unexpected)
    report(
      diagnostic(
        "E100",
        { expected: "'{'", found: quote(unexpected.kind === "option" ? unexpected.key : unexpected) },
        { ...extras, span: unexpected.span },
      ),
    );

  // A head that is no word has no block to hold its items: they count as the enclosing level's, so the
  // builder still sees (and checks) them.
  if (!keyword) {
    queue.unshift(...entries);
    return undefined;
  }

  const lastEntry = entries.at(-1);
  const end = raw.closed ? raw.span[1] : Math.max(raw.open[1], lastEntry ? entrySpan(lastEntry)[1] : 0);
  const block: Block = { kind: "block", keyword, items: [], span: [raw.span[0], end] };
  if (name) block.name = name;
  block.items = shapeEntries(entries, block, extras, report);
  return block;
}

function entrySpan(e: RawEntry): Span {
  switch (e.kind) {
    case "item":
      return e.item.span;
    case "comment":
      return e.comment.span;
    default:
      return e.span;
  }
}
