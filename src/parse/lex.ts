// Parse phase, lexing: .nn text -> tokens, held in typed arrays (a kind, a start and an end offset each) so that
// a megabyte of newlines or semicolons is a few megabytes of memory rather than a million objects. The token
// rules are the lexical half of the grammar, written as regular expressions:
//   word    letter or _, then letters, digits, - _ . : /     dense, fashion-mnist, idx:./data/mnist
//   number  -?(digits[.digits?] | .digits)(e[+-]digits)?     128, 0.5, .5, 1e-3, -1
//   dims    integers (each may be negative) joined by x      28x28, 3x3, 28x28x1, -1x28 (reshape's inferred size)
//   string  "..." on one line, escapes \" and \\ only
//   invalid any other run of characters up to a delimiter (space, newline, ; { } ( ) , # =): 1.2.3, 12abc, 3x
// ( ) and , are delimiters for a block definition's parameter list, `block basic(filters, stride=1) {`; inside
// strings they are text like any other character.
// No token spans lines, and the lexer looks at most one character past a token (but for `"a"b`, see relex()):
// so after recovery blanks a statement out (parse.ts), relex() lexes again only around it, not the whole text.

/** Token kinds. The six value kinds come first, so `kind <= LAST_VALUE` tests for a value. */
export const Tok = {
  word: 0,
  number: 1,
  dims: 2,
  string: 3,
  unterminated: 4,
  invalid: 5,
  equals: 6,
  semicolon: 7,
  open: 8,
  close: 9,
  lparen: 10,
  rparen: 11,
  comma: 12,
  newline: 13,
  comment: 14,
} as const;
export type TokenKind = (typeof Tok)[keyof typeof Tok];
export const LAST_VALUE = Tok.invalid;

/** The tokens of a text: token i is kinds[i], from starts[i] to ends[i] (offsets into the text). */
export interface Tokens {
  count: number;
  kinds: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
}

// A lone \r is a space (old Mac line ends are not supported); \r\n is a newline. The BOM is a space, so
// offsets stay those of the text as read.
const COMMENT = /#(?:[^\n\r]|\r(?!\n))*/y;
const STRING_BODY = /"(?:\\["\\]|\\(?!["\\])|[^"\\\n\r]|\r(?!\n))*/y;
const RUN = /[^ \t\r\n\uFEFF;{}(),#=]+/y;
const DELIMITER = /[ \t\r\n\uFEFF;{}(),#=]/;

const DIMS = /^-?\d+(?:x-?\d+)+$/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// ohm's `letter` is any Unicode letter and `digit` is 0-9: the same here.
const WORD = /^[\p{L}_][\p{L}0-9_\-.:/]*$/u;

function classify(text: string): TokenKind {
  if (WORD.test(text)) return Tok.word;
  if (DIMS.test(text)) return Tok.dims;
  if (NUMBER.test(text)) return Tok.number;
  return Tok.invalid;
}

function matchAt(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : at;
}

/** The one-character tokens by character code (NONE for the others). */
const NONE = 255;
const PUNCTUATION = new Uint8Array(128).fill(NONE);
PUNCTUATION[0x3b] = Tok.semicolon;
PUNCTUATION[0x7b] = Tok.open;
PUNCTUATION[0x7d] = Tok.close;
PUNCTUATION[0x28] = Tok.lparen;
PUNCTUATION[0x29] = Tok.rparen;
PUNCTUATION[0x2c] = Tok.comma;
PUNCTUATION[0x3d] = Tok.equals;

const isSpace = (c: number, next: number) =>
  c === 0x20 || c === 0x09 || c === 0xfeff || (c === 0x0d && next !== 0x0a);

/** Appends a token (the arrays have room: callers see to it). */
function push(out: Tokens, kind: TokenKind, start: number, end: number): void {
  const i = out.count++;
  out.kinds[i] = kind;
  out.starts[i] = start;
  out.ends[i] = end;
}

/**
 * One lexing step at `at`: a space run, or one token appended to `out`; returns where the next step starts.
 * Each step depends only on the text from `at`, which is what lets relex() resume mid-text.
 */
function step(text: string, at: number, out: Tokens): number {
  const c = text.charCodeAt(at);
  const punctuation = c < 128 ? PUNCTUATION[c]! : NONE;
  if (punctuation !== NONE) {
    push(out, punctuation as TokenKind, at, at + 1);
    return at + 1;
  }
  if (c === 0x0a) {
    push(out, Tok.newline, at, at + 1);
    return at + 1;
  }
  if (isSpace(c, text.charCodeAt(at + 1))) {
    let end = at + 1;
    while (end < text.length && isSpace(text.charCodeAt(end), text.charCodeAt(end + 1))) end++;
    return end;
  }
  if (c === 0x0d) {
    // \r\n (a lone \r was a space above)
    push(out, Tok.newline, at, at + 2);
    return at + 2;
  }
  let end: number;
  if (c === 0x23) push(out, Tok.comment, at, (end = matchAt(COMMENT, text, at)));
  else if (c === 0x22) {
    end = matchAt(STRING_BODY, text, at);
    if (text[end] !== '"') push(out, Tok.unterminated, at, end);
    else if (end + 1 === text.length || DELIMITER.test(text[end + 1]!)) push(out, Tok.string, at, ++end);
    // `"a"b` is no string: the whole run up to a delimiter is one invalid token.
    else push(out, Tok.invalid, at, (end = matchAt(RUN, text, at)));
  } else {
    end = matchAt(RUN, text, at);
    push(out, classify(text.slice(at, end)), at, end);
  }
  return end;
}

/** Token arrays with room for `capacity` tokens (a text of n characters has at most n tokens). */
function allocate(capacity: number): Tokens {
  return {
    count: 0,
    kinds: new Uint8Array(capacity),
    starts: new Int32Array(capacity),
    ends: new Int32Array(capacity),
  };
}

export function lex(text: string): Tokens {
  const tokens = allocate(text.length);
  for (let at = 0; at < text.length;) at = step(text, at, tokens);
  return tokens;
}

/**
 * After text[from, to) changed without changing the text's length (recovery blanks characters out), lexes
 * again from the end of the last token that ends before `from` until the new tokens meet an old token start
 * at or after `to`, and splices the new tokens in. Returns the index of the first token that may differ.
 */
export function relex(tokens: Tokens, text: string, from: number, to: number): number {
  const { kinds, starts, ends } = tokens;
  // The first token ending at or after `from` (a token looks one character past its end, so one ending right
  // before `from` may change too: `ends[k] >= from`).
  let lo = 0;
  let hi = tokens.count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  let first = lo;
  // The exception: a token that starts with '"' but is no string (`"a"b`) looked for the string's end, up to
  // its line's end. Only such tokens look that far, and not across a line: lex again from the line's first '"'.
  const lineStart = text.lastIndexOf("\n", from - 1) + 1;
  const quote = text.indexOf('"', lineStart);
  if (quote >= 0 && quote < from && first > 0 && ends[first - 1]! > quote) {
    while (first > 0 && ends[first - 1]! > quote) first--;
  }
  const fresh = allocate(Math.max(0, to - (first > 0 ? ends[first - 1]! : 0)) + 2);
  let old = first;
  let at = first > 0 ? ends[first - 1]! : 0;
  while (at < text.length) {
    if (at >= to) {
      while (old < tokens.count && starts[old]! < at) old++;
      if (old < tokens.count && starts[old] === at) break;
    }
    if (fresh.count + 1 >= fresh.kinds.length) grow(fresh);
    at = step(text, at, fresh);
  }
  if (at >= text.length) old = tokens.count;
  // Replace tokens [first, old) with the fresh ones; the arrays have room for one token per character.
  const shift = fresh.count - (old - first);
  kinds.copyWithin(first + fresh.count, old, tokens.count);
  starts.copyWithin(first + fresh.count, old, tokens.count);
  ends.copyWithin(first + fresh.count, old, tokens.count);
  kinds.set(fresh.kinds.subarray(0, fresh.count), first);
  starts.set(fresh.starts.subarray(0, fresh.count), first);
  ends.set(fresh.ends.subarray(0, fresh.count), first);
  tokens.count += shift;
  return first;
}

function grow(tokens: Tokens): void {
  const bigger = allocate(tokens.kinds.length * 2);
  bigger.kinds.set(tokens.kinds);
  bigger.starts.set(tokens.starts);
  bigger.ends.set(tokens.ends);
  tokens.kinds = bigger.kinds;
  tokens.starts = bigger.starts;
  tokens.ends = bigger.ends;
}
