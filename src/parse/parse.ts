// Parse phase: .nn source text -> syntax tree (src/parse/syntax-tree.ts) plus every syntax diagnostic
// (E0xx/E1xx). lex.ts makes tokens, match.ts matches them against the grammar (grammar/nn.ohm) into raw
// entries; shapeFile() below attaches comments, checks the heads of top-level blocks, and reports what the
// permissive grammar let through. Blocks nest at any depth here (the builder says which keyword may nest
// where); the depth is bounded before matching (E108), so no input can exhaust the stack. Never throws on user
// input: a failed match is reported (E100), blanked out and matched again from the last entry it left intact,
// so one run reports all the syntax errors of a file, in time linear in its length.
import { diagnostic, sortDiagnostics, type Diagnostic } from "../diagnostics/index.ts";
import { LAST_VALUE, lex, relex, Tok, type Tokens } from "./lex.ts";
import {
  Matcher,
  type RawBlock,
  type RawEntry,
  type RawItem,
  type RawParam,
  type RawArg,
  type RawParams,
  type RawValue,
} from "./match.ts";
import type {
  Arg,
  Block,
  Comment,
  Item,
  Param,
  SourceFile,
  Span,
  Statement,
  Value,
  Word,
} from "./syntax-tree.ts";

export interface ParseResult {
  tree: SourceFile;
  diagnostics: Diagnostic[];
}

/**
 * At most this many syntax errors are reported, and matches retried: a file with more is not worth more
 * messages, and a megabyte of '}' would otherwise be a million of them (1.4 GB, and a stack overflow where
 * they were spread into a call). E107 says the list stops there.
 */
export const MAX_SYNTAX_ERRORS = 50;

/**
 * Levels of '{' a file may nest. ohm matches recursively (a few hundred levels exhaust Node's stack), and so do
 * the tree's later walks; real specs nest a handful of levels.
 */
export const MAX_DEPTH = 64;

/**
 * Statements and comments a file may hold (block heads included). The tree keeps ~190 bytes a statement, and matching needs
 * as much again while it runs: 1 MiB of `a;` is 524,288 statements and took 270 MB. A model holds at most
 * 20,000 layers, so a real spec is far below this; past it the file is refused before matching (E109).
 */
export const MAX_STATEMENTS = 100_000;

/**
 * The keywords of the blocks a file is made of. Only their heads are checked here (a name, nothing more; a
 * parameter list only on `block`), and only they end an unclosed block's items: `residual {`, `repeat 2 {`
 * and other words nest inside models, and their heads are the builder's to judge.
 */
export const TOP_LEVEL_KEYWORDS: readonly string[] = ["model", "train", "experiment", "block"];

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

  const matched = matchAll(text, extras);
  if (!("entries" in matched)) return { tree: empty, diagnostics: matched.diagnostics };
  // Shaped after matching is done with: the tokens and the matcher's state are garbage by now.
  const shaped = shapeFile(matched.entries, matched.text, extras);
  const all = [...matched.diagnostics, ...shaped.diagnostics];
  return { tree: shaped.tree, diagnostics: bounded(all, text, extras, false) };
}

/**
 * Lexes and matches the text, reporting a failed match (E100), blanking it out and matching again until the
 * match succeeds: its raw entries, the text as blanked and the E100s; or, when there is no recovering (or after
 * MAX_SYNTAX_ERRORS tries, or past MAX_DEPTH), only the diagnostics.
 */
function matchAll(
  text: string,
  extras: Extras,
): { entries: RawEntry[]; text: string; diagnostics: Diagnostic[] } | { diagnostics: Diagnostic[] } {
  const tokens = lex(text);
  // Blanking out never adds a '{', so this holds for every retry. Nothing else is worth saying about such a
  // file (and recovering from 100,000 '{' one at a time would take minutes).
  const deep = tooDeep(tokens);
  if (deep !== undefined) {
    const span: Span = [tokens.starts[deep]!, tokens.ends[deep]!];
    return { diagnostics: [diagnostic("E108", { limit: MAX_DEPTH }, { ...extras, span })] };
  }

  const crowded = tooMany(tokens);
  if (crowded !== undefined) {
    const span: Span = [tokens.starts[crowded]!, tokens.ends[crowded]!];
    const limit = MAX_STATEMENTS.toLocaleString("en-US");
    return { diagnostics: [diagnostic("E109", { limit }, { ...extras, span })] };
  }

  const diagnostics: Diagnostic[] = [];
  const matcher = new Matcher(tokens, text);
  let current = text;
  for (let attempt = 0; ; attempt++) {
    const result = matcher.match();
    if ("entries" in result) return { entries: result.entries, text: current, diagnostics };
    const failed = result.failure.at;
    const at = failed < tokens.count ? tokens.starts[failed]! : current.length;
    const problem = describeFailure(current, at, result.failure.expected);
    diagnostics.push(
      diagnostic(
        "E100",
        { expected: problem.expected, found: problem.found },
        {
          ...extras,
          span: [problem.at, problem.at + problem.length],
          ...(problem.help ? { help: problem.help } : {}),
        },
      ),
    );
    const blank = recoveryRange(current, at);
    if (!blank || attempt + 1 >= MAX_SYNTAX_ERRORS)
      return { diagnostics: bounded(diagnostics, text, extras, blank !== undefined) };
    let first = tokens.count;
    for (const [start, end] of blank) {
      current =
        current.slice(0, start) + current.slice(start, end).replace(/[^\n\r]/g, " ") + current.slice(end);
      first = Math.min(first, relex(tokens, current, start, end));
    }
    matcher.rewind(first, current);
  }
}

/**
 * The token that starts statement (or comment) MAX_STATEMENTS + 1, if there is one: a statement starts at a value
 * token that begins the file or follows a ';', a line end, '{' or '}'; every comment counts as one.
 */
function tooMany({ kinds, count }: Tokens): number | undefined {
  let statements = 0;
  let atStart = true;
  for (let i = 0; i < count; i++) {
    const kind = kinds[i]!;
    if (kind <= LAST_VALUE) {
      if (atStart && ++statements > MAX_STATEMENTS) return i;
      atStart = false;
    } else if (kind === Tok.comment) {
      // A comment is an entry of the tree too (1 MiB of `#` lines made 524,288 of them, 262 MB).
      if (++statements > MAX_STATEMENTS) return i;
    } else if (kind === Tok.semicolon || kind === Tok.newline || kind === Tok.open || kind === Tok.close) {
      atStart = true;
    }
  }
  return undefined;
}

/** The first '{' deeper than MAX_DEPTH ('}' closes a level; a stray one at the top changes nothing). */
function tooDeep({ kinds, count }: Tokens): number | undefined {
  let depth = 0;
  for (let i = 0; i < count; i++) {
    if (kinds[i] === Tok.open) {
      if (++depth > MAX_DEPTH) return i;
    } else if (kinds[i] === Tok.close && depth > 0) depth--;
  }
  return undefined;
}

/**
 * The first MAX_SYNTAX_ERRORS problems (distinct, top to bottom), then E107 when there were more or matching
 * stopped early: said, or the reader takes the list for complete.
 */
function bounded(diags: Diagnostic[], text: string, extras: Extras, stopped: boolean): Diagnostic[] {
  const kept = distinct(diags, text);
  if (!stopped && kept.length <= MAX_SYNTAX_ERRORS) return kept;
  const shown = kept.slice(0, MAX_SYNTAX_ERRORS);
  const end = shown.at(-1)?.span?.[1] ?? 0;
  return [...shown, diagnostic("E107", { count: MAX_SYNTAX_ERRORS }, { ...extras, span: [end, end] })];
}

/**
 * Top to bottom, each problem once (a blanked-out region could otherwise be blamed again): at most one syntax
 * error (E100) per position, and one per line for a message that repeats along the line (a line of 50 '{' is
 * one mistake, not fifty).
 */
function distinct(diags: Diagnostic[], text: string): Diagnostic[] {
  const seen = new Set<string>();
  let previous: { line: number; message: string } | undefined;
  // Sorted by offset, so line numbers are counted once, front to back: linear in the text.
  let line = 0;
  let counted = 0;
  return sortDiagnostics(diags).filter((d) => {
    const key = d.code === "E100" ? `E100@${d.span?.[0]}` : `${d.code}@${d.span?.[0]}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    if (d.code !== "E100" || !d.span) return true;
    for (let i = text.indexOf("\n", counted); i >= 0 && i < d.span[0]; i = text.indexOf("\n", i + 1)) {
      line++;
      counted = i + 1;
    }
    const repeat = previous?.line === line && previous.message === d.message;
    previous = { line, message: d.message };
    return !repeat;
  });
}

// ---- E100: what ohm expected, and what it found instead

/** The token at a failure position, as a message quotes it. */
function foundAt(text: string, at: number): { text: string; length: number } {
  if (at >= text.length) return { text: "end of file", length: 0 };
  if (text[at] === "\n" || text.startsWith("\r\n", at)) return { text: "end of line", length: 0 };
  const piece = text.slice(at, at + 200);
  const token = /^"(?:\\.|[^"\\\n\r])*"?|^[^\s;{}()#=",]+/.exec(piece)?.[0] ?? text[at]!;
  return { text: `'${token}'`, length: token.length };
}

/** What an E100 says about a failed match. */
interface Failure {
  /** Where the caret goes: the failure, or the '(' of the group it is in. */
  at: number;
  expected: string;
  found: string;
  /** Of the span the caret marks. */
  length: number;
  help?: string;
}

function describeFailure(text: string, at: number, ohmText: string): Failure {
  const found = foundAt(text, at);
  const plain: Failure = {
    at,
    expected: expectedAt(text, at, ohmText),
    found: found.text,
    length: found.length,
  };
  const segment = segmentAt(text, at);
  const blockHead = segment.next !== undefined && text[segment.next] === "{";
  const listOpen = unmatchedParen(text, segment.start, at);
  // In a block definition's parameter list: what the list lacks. Anywhere else the whole group is the problem.
  const definition = /^block\b/.test(text.slice(segment.start, segment.end).trimStart());
  if (listOpen !== undefined && (blockHead || definition))
    return { ...plain, expected: expectedInParams(text, at) };
  const open = listOpen ?? (text[at] === "(" ? at : undefined);
  if (open !== undefined) return describeGroup(text, open, segment, blockHead);
  if (text[at] === ",") {
    // `1,000` or `32,128`: thousands, or a list? Say both rules rather than guess.
    if (/\d/.test(text[at - 1] ?? "") && /\d/.test(text[at + 1] ?? ""))
      return {
        ...plain,
        expected: "values separated by spaces",
        help: "values are separated by spaces, and numbers take no thousands separators",
      };
    const statement = text.slice(segment.start, segment.end).trim();
    const written = statement.includes('"') ? undefined : statement.replace(/\s*,\s*/g, " ");
    const help = written && written.length <= 80 ? `write '${written}'` : "values are separated by spaces";
    return { ...plain, expected: "values separated by spaces", help };
  }
  if (text[at] === ")") return { ...plain, expected: "values separated by spaces", help: PARENS_HELP };
  return plain;
}

/**
 * A parenthesised group where none may be, at `open`: Keras' `kernel_size=(3, 3)`, or a call as in Python
 * (`basic(16, stride=2)`, of a block or an op). Quoted whole when short.
 */
function describeGroup(
  text: string,
  open: number,
  segment: { start: number; end: number },
  blockHead: boolean,
): Failure {
  const group = parenGroup(text, open);
  const short = group.closed && group.end - open <= 40;
  const quoted = short
    ? { at: open, found: `'${text.slice(open, group.end)}'`, length: group.end - open }
    : { at: open, found: "'('", length: 1 };
  if (group.closed && group.entries.length >= 2 && group.entries.every((e) => /^\d+$/.test(e)))
    return { ...quoted, expected: "dims written NxM", help: `write ${group.entries.join("x")}` };
  const before = text.slice(segment.start, open).trim();
  if (before === "block")
    return {
      ...quoted,
      expected: "a block name before '('",
      help: "write block NAME(PARAM, PARAM=DEFAULT) {",
    };
  const written = spacedForm(before, group.entries, text.slice(group.end, segment.end));
  const help =
    group.closed && !blockHead && written.length <= 80 ? `write '${written}' ${PARENS_ONLY}` : PARENS_HELP;
  return { ...quoted, expected: "arguments separated by spaces", help };
}

/**
 * ohm lists everything that could have come next, including the catch-alls of the permissive grammar; a reader
 * needs the few that make sense there. Failures in this grammar are few: a missing value after '=', a stray
 * '=', a '{' with no keyword, and parentheses (describeFailure).
 */
function expectedAt(text: string, at: number, ohmText: string): string {
  const before = previousChar(text, at);
  if (before === "=") return "a value after '='";
  if (text[at] === "{") return "a block keyword before '{' (e.g. model NAME {)";
  if (text[at] === "=") return "an option name before '=' (options are written key=value)";
  const useful = ohmText
    .split(/, or |, | or /)
    .filter((t) => !["a word", "a comment", '"}"', '"{"', '"("', "end of input"].includes(t));
  const names = useful.map((t) => (t === '";"' ? "';'" : t));
  if (names.length === 0) return "a statement";
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

/** The last character before `at` that is no space or tab. */
function previousChar(text: string, at: number): string | undefined {
  let before = at - 1;
  while (before >= 0 && (text[before] === " " || text[before] === "\t")) before--;
  return text[before];
}

// ---- parentheses: a block definition's parameter list, and the ways other uses fail

const PARENS_ONLY = "(parentheses only appear in a block definition's head)";
const PARENS_HELP =
  "parentheses only appear in a block definition's head: block NAME(PARAM, PARAM=DEFAULT) {";

/** Inside a parameter list, the grammar wants a name after '(' or ',', a value after '=', else ',' or ')'. */
function expectedInParams(text: string, at: number): string {
  const before = previousChar(text, at);
  if (before === "=") return "a value after '='";
  if (before === "(" || before === ",") return "a parameter name (a word)";
  return "',' or ')'";
}

/** The last '(' in text[from, to) not closed before `to` (strings skipped), or undefined. */
function unmatchedParen(text: string, from: number, to: number): number | undefined {
  const open: number[] = [];
  let inString = false;
  for (let i = from; i < to; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "(") open.push(i);
    else if (c === ")") open.pop();
  }
  return open.at(-1);
}

/**
 * The parenthesised group opening at `open`: where it ends (after its ')', or where its statement ends when
 * unclosed) and its comma-separated entries, trimmed (nested groups such as `(3,3)` are one entry).
 */
function parenGroup(text: string, open: number): { end: number; closed: boolean; entries: string[] } {
  const entries: string[] = [];
  let depth = 0;
  let from = open + 1;
  let inString = false;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\n") return { end: i, closed: false, entries };
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (c === ")" || (c === "," && depth === 0)) {
      entries.push(text.slice(from, i).trim());
      from = i + 1;
      if (c === ")")
        return { end: i + 1, closed: true, entries: entries.length === 1 && !entries[0] ? [] : entries };
    } else if ("\n;{}#".includes(c)) return { end: i, closed: false, entries };
  }
  return { end: text.length, closed: false, entries };
}

/** `basic 16 stride=2` for `basic(16, stride = 2)`; Keras' `(3, 3)` inside becomes 3x3. */
function spacedForm(before: string, entries: string[], after: string): string {
  const spaced = entries.map((e) =>
    /^\(\s*\d+(?:\s*,\s*\d+)+\s*\)$/.test(e) ? e.match(/\d+/g)!.join("x") : e.replace(/\s*=\s*/g, "="),
  );
  return [before, ...spaced, after.trim()].filter((t) => t !== "").join(" ");
}

// ---- recovery: which text to blank out after a failed match

/**
 * The statement (or block head) around an offset: from the previous separator (';', '{', '}' outside strings)
 * on its line to the next one or the line's content end (a comment starts); `next` is that next separator,
 * when there is one. Scans the line only up to that next separator: a line may hold a million of them.
 */
function segmentAt(text: string, at: number): { start: number; end: number; next?: number } {
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  let lineEnd = text.indexOf("\n", at);
  if (lineEnd < 0) lineEnd = text.length;
  if (text[lineEnd - 1] === "\r") lineEnd--;
  let start = lineStart;
  let contentEnd = lineEnd;
  let next: number | undefined;
  let inString = false;
  for (let i = lineStart; i < lineEnd; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "#") {
      contentEnd = i;
      break;
    } else if (c === ";" || c === "{" || c === "}") {
      if (i >= at) {
        next = i;
        break;
      }
      start = i + 1;
    }
  }
  const end = Math.min(next ?? contentEnd, contentEnd);
  return next !== undefined && next === end ? { start, end, next } : { start, end };
}

/**
 * The statement around a failure, or, when the failure is a '{' with nothing before it, that '{' and its
 * matching '}' (so its items are matched as top-level items instead of one error per line). A block head before
 * '{' is kept: the text from the failure (or from the '(' of a parameter list it is in) to the '{' goes.
 * Undefined when nothing can be blanked (so recovery cannot loop).
 */
function recoveryRange(text: string, at: number): Array<[number, number]> | undefined {
  const segment = segmentAt(text, at);
  const listOpen = unmatchedParen(text, segment.start, at);
  // `block d(x, {`: the '{' is where the list failed, and still the block's.
  const head =
    segment.next !== undefined && text[segment.next] === "{" && (at < segment.next || listOpen !== undefined);
  const start = head ? (listOpen ?? at) : segment.start;
  if (/\S/.test(text.slice(start, segment.end))) return [[start, segment.end]];
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

/**
 * What every shaping function needs: the text (for quoting), the file, and where problems go. `report` takes a
 * maker, called only while problems are still wanted (a megabyte of '}' would otherwise make a million).
 */
interface Shaper {
  text: string;
  extras: Extras;
  report: (make: () => Diagnostic) => void;
}

function shapeFile(entries: RawEntry[], text: string, extras: Extras): ParseResult {
  const diagnostics: Diagnostic[] = [];
  // One past the bound is enough to know there are more (bounded() keeps the first ones by position).
  const report = (make: () => Diagnostic) =>
    void (diagnostics.length <= MAX_SYNTAX_ERRORS && diagnostics.push(make()));
  const shaper: Shaper = { text, extras, report };
  const items = shapeEntries(entries, undefined, shaper);
  return { tree: { kind: "file", items, span: [0, text.length] }, diagnostics };
}

/** The words a head or name must be; anything else is reported once, here. */
function checkValue(value: RawValue, { extras, report }: Shaper): void {
  if (value.kind === "invalid") {
    // A token that starts like a number was meant as one; anything else is a word with a stray character.
    if (/^[-+]?\.?\d/.test(value.text))
      report(() => diagnostic("E101", { text: value.text }, { ...extras, span: value.span }));
    else report(() => diagnostic("E106", { text: value.text }, { ...extras, span: value.span }));
  } else if (value.kind === "string" && value.unterminated) {
    report(() => diagnostic("E102", {}, { ...extras, span: value.span }));
  }
}

/** Every value of an item's head: the head, its args, its parameters' defaults. */
function checkValues(raw: RawItem | RawBlock, shaper: Shaper): void {
  checkValue(raw.head, shaper);
  for (const arg of raw.args) checkValue(arg.kind === "option" ? arg.value : arg, shaper);
  for (const param of raw.params?.list ?? []) if (param.default) checkValue(param.default, shaper);
}

const quote = (v: { text: string }) => `'${v.text}'`;
const isTopLevel = (head: RawValue) => head.kind === "word" && TOP_LEVEL_KEYWORDS.includes(head.text);
/** Reported already by checkValue. */
const isBadToken = (v: RawValue) => v.kind === "invalid" || (v.kind === "string" && v.unterminated === true);

/**
 * Entries still to shape, in order. Some go back in front (what leaves an unclosed block, the items of a block
 * without a keyword): those wait on a stack, taken first. No copy of the entries (a file may hold a million).
 */
class EntryQueue {
  private readonly back: RawEntry[] = [];
  private index = 0;
  constructor(private readonly entries: RawEntry[]) {}
  next(): RawEntry | undefined {
    return this.back.length > 0 ? this.back.pop() : this.entries[this.index++];
  }
  putBack(entries: RawEntry[]): void {
    for (let i = entries.length - 1; i >= 0; i--) this.back.push(entries[i]!);
  }
}

function shapeEntries(entries: RawEntry[], parent: Block | undefined, shaper: Shaper): Item[] {
  const { extras, report } = shaper;
  const items: Item[] = [];
  // The item a comment on the same line belongs to; "head" is the '{' line of the enclosing block.
  let lastOnLine: Statement | Block | "head" | undefined = parent ? "head" : undefined;
  let previousWasItem = false;
  const queue = new EntryQueue(entries);
  for (let entry = queue.next(); entry; entry = queue.next()) {
    switch (entry.kind) {
      case "newline":
        lastOnLine = undefined;
        previousWasItem = false;
        break;
      case "semicolon":
        previousWasItem = false;
        break;
      case "stray": {
        const span: Span = [entry.start, entry.end];
        report(() => diagnostic("E104", {}, { ...extras, span }));
        previousWasItem = false;
        break;
      }
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
      case "statement":
      case "block": {
        const raw = entry;
        if (previousWasItem)
          report(() =>
            diagnostic(
              "E100",
              { expected: "a newline or ';'", found: quote(raw.head) },
              { ...extras, span: raw.head.span },
            ),
          );
        // An unclosed block holds the rest of the file; the rest is a top-level block's from its first
        // top-level keyword on (at any depth): it goes back to the top level, after this block.
        if (!parent && raw.kind === "block" && !raw.closed) queue.putBack(splitUnclosed(raw));
        const item = raw.kind === "statement" ? shapeStatement(raw, shaper) : shapeBlock(raw, queue, shaper);
        if (item) {
          items.push(item);
          lastOnLine = item;
        } else lastOnLine = undefined;
        // An unclosed block ends where the file (or the split before a top-level block) does: no separator due.
        previousWasItem = raw.kind === "statement" || raw.closed;
        break;
      }
    }
  }
  return items;
}

/**
 * A block left open before a top-level block (`model a { ...` then `train {`) most likely lacks its '}' there,
 * not the whole rest of the file: that block and what follows it leave the unclosed block (and the unclosed
 * blocks it is in, whose last entry it is) and are returned, for the top level. No E105 for them.
 */
function splitUnclosed(block: RawBlock): RawEntry[] {
  const entries = block.entries;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.kind !== "block") continue;
    let moved: RawEntry[] = [];
    if (isTopLevel(entry.head)) {
      moved = entries.slice(i);
      block.entries = entries.slice(0, i);
    } else if (!entry.closed) moved = splitUnclosed(entry); // always the last entry
    if (moved.length === 0) continue;
    block.span = [block.span[0], unclosedEnd(block)];
    return moved;
  }
  return [];
}

/** An unclosed block ends with its last entry (or its '{'), not with the whitespace before the file's end. */
function unclosedEnd(block: RawBlock): number {
  const last = block.entries.at(-1);
  return Math.max(block.open[1], last ? entryEnd(last) : 0);
}

function shapeStatement(raw: RawItem, shaper: Shaper): Statement | undefined {
  const { extras, report } = shaper;
  checkValues(raw, shaper);
  if (raw.head.kind !== "word") {
    if (!isBadToken(raw.head))
      report(() =>
        diagnostic(
          "E100",
          { expected: "a statement (a word such as dense)", found: quote(raw.head) },
          { ...extras, span: raw.head.span },
        ),
      );
    return undefined;
  }
  // `residual basic(16)`: a parameter list without the block body it belongs to. Dropped with it, like a
  // statement recovery blanks out, so the builder does not judge a guess.
  if (raw.params) {
    const [head, params] = [raw.head, raw.params];
    report(() => paramsWithoutBody(head, params, shaper));
    return undefined;
  }
  // The raw item becomes the statement (the same fields, its args cleaned in place): a file may hold a
  // million statements, and the raw entries stay alive until the whole file is shaped.
  // (Checked above: a word head, no params; cleanArgs made the args Args.)
  cleanArgs(raw.args);
  return raw as unknown as Statement;
}

function paramsWithoutBody(head: Word, params: RawParams, { text, extras }: Shaper): Diagnostic {
  if (head.text === "block") {
    const end = params.close[1];
    return diagnostic(
      "E100",
      { expected: "'{' after the parameter list", found: "end of statement" },
      { ...extras, span: [end, end], help: "a block definition has a body: block NAME(PARAM, ...) { ... }" },
    );
  }
  const open = params.open[0];
  const failure = describeGroup(text, open, segmentAt(text, open), false);
  return diagnostic(
    "E100",
    { expected: failure.expected, found: failure.found },
    {
      ...extras,
      span: [failure.at, failure.at + failure.length],
      ...(failure.help ? { help: failure.help } : {}),
    },
  );
}

const cleanValue = (v: RawValue): Value => {
  if (v.kind !== "string" || !v.unterminated) return v;
  return { kind: "string", text: v.text, value: v.value, span: v.span };
};
/** The args as the tree holds them, cleaned in place: a file may hold a million statements. */
function cleanArgs(args: RawArg[]): Arg[] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.kind === "option") {
      if (a.value.kind === "string" && a.value.unterminated) args[i] = { ...a, value: cleanValue(a.value) };
    } else args[i] = cleanValue(a);
  }
  return args as Arg[];
}
const cleanParam = (p: RawParam): Param =>
  p.default
    ? { kind: "param", name: p.name, default: cleanValue(p.default), span: p.span }
    : { kind: "param", name: p.name, span: p.span };

function shapeBlock(raw: RawBlock, queue: EntryQueue, shaper: Shaper): Block | undefined {
  const { extras, report } = shaper;
  checkValues(raw, shaper);
  const keyword = raw.head.kind === "word" ? raw.head : undefined;
  if (!keyword) {
    if (!isBadToken(raw.head))
      report(() =>
        diagnostic(
          "E100",
          { expected: "a block keyword (model, train or experiment)", found: quote(raw.head) },
          { ...extras, span: raw.head.span },
        ),
      );
  } else if (!raw.closed) {
    report(() => diagnostic("E103", { keyword: keyword.text }, { ...extras, span: keyword.span }));
  }
  // Only the blocks a file is made of have a fixed head; `repeat 2 {` and the like are the builder's to judge.
  if (keyword && TOP_LEVEL_KEYWORDS.includes(keyword.text)) checkTopLevelHead(raw, keyword, shaper);

  // A head that is no word has no block to hold its items: they count as the enclosing level's, so the
  // builder still sees (and checks) them.
  if (!keyword) {
    queue.putBack(raw.entries);
    return undefined;
  }

  const first = raw.args[0];
  const end = raw.closed ? raw.span[1] : unclosedEnd(raw);
  const block: Block = {
    kind: "block",
    keyword,
    args: cleanArgs(raw.args),
    items: [],
    span: [raw.span[0], end],
  };
  if (first?.kind === "word") block.name = first;
  if (raw.params) block.params = raw.params.list.map(cleanParam);
  block.items = shapeEntries(raw.entries, block, shaper);
  return block;
}

/** `model NAME {`, `train {`: one word at most, and a parameter list only in `block NAME(...) {`. */
function checkTopLevelHead(raw: RawBlock, keyword: Word, { extras, report }: Shaper): void {
  const [first, second] = raw.args;
  const foundText = (arg: RawItem["args"][number]) => quote(arg.kind === "option" ? arg.key : arg);
  if (first && first.kind !== "word" && !(first.kind !== "option" && isBadToken(first)))
    report(() =>
      diagnostic(
        "E100",
        { expected: "a block name (a word) or '{'", found: foundText(first) },
        { ...extras, span: first.span },
      ),
    );
  else if (first && raw.params && keyword.text !== "block") {
    const open = raw.params.open;
    report(() =>
      diagnostic(
        "E100",
        { expected: "'{'", found: "'('" },
        {
          ...extras,
          span: open,
          help: "only a block definition takes parameters: block NAME(PARAM, PARAM=DEFAULT) {",
        },
      ),
    );
  } else if (first?.kind === "word" && second)
    report(() =>
      diagnostic("E100", { expected: "'{'", found: foundText(second) }, { ...extras, span: second.span }),
    );
}

function entryEnd(e: RawEntry): number {
  switch (e.kind) {
    case "statement":
    case "block":
      return e.span[1];
    case "comment":
      return e.comment.span[1];
    default:
      return e.end;
  }
}
