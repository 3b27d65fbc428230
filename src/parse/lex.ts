// Parse phase, lexing: .nn text -> tokens, and the one-character-per-token string that grammar/nn.ohm matches.
// Why a separate lexer: ohm costs about a microsecond per input character and more per rule, so matching the
// characters of a 1,000-statement spec took ~250 ms; matching its tokens takes a fraction of that. The token
// rules are the lexical half of the grammar, written as regular expressions:
//   word    letter or _, then letters, digits, - _ . : /     dense, fashion-mnist, idx:./data/mnist
//   number  -?(digits[.digits?] | .digits)(e[+-]digits)?     128, 0.5, .5, 1e-3, -1
//   dims    integers joined by x                             28x28, 3x3, 28x28x1
//   string  "..." on one line, escapes \" and \\ only
//   invalid any other run of characters up to a delimiter (space, newline, ; { } ( ) , # =): 1.2.3, 12abc, 3x
// ( ) and , are delimiters for a block definition's parameter list, `block basic(filters, stride=1) {`; inside
// strings they are text like any other character.

export type TokenKind =
  | "word"
  | "number"
  | "dims"
  | "string"
  | "unterminated"
  | "invalid"
  | "="
  | ";"
  | "{"
  | "}"
  | "("
  | ")"
  | ","
  | "newline"
  | "comment";

export interface Token {
  kind: TokenKind;
  /** Offsets into the source text. */
  start: number;
  end: number;
}

/** The character each token kind is in the string grammar/nn.ohm matches (its lexical rules name them). */
const TOKEN_CODE: Record<TokenKind, string> = {
  word: "w",
  number: "n",
  dims: "d",
  string: "s",
  unterminated: "u",
  invalid: "i",
  "=": "=",
  ";": ";",
  "{": "{",
  "}": "}",
  "(": "(",
  ")": ")",
  ",": ",",
  newline: "\n",
  comment: "#",
};

// A lone \r is a space (old Mac line ends are not supported); \r\n is a newline. The BOM is a space, so
// offsets stay those of the text as read.
const SPACE = /(?:[ \t\uFEFF]|\r(?!\n))+/y;
const NEWLINE = /\r?\n/y;
const COMMENT = /#(?:[^\n\r]|\r(?!\n))*/y;
const STRING_BODY = /"(?:\\["\\]|\\(?!["\\])|[^"\\\n\r]|\r(?!\n))*/y;
const RUN = /[^ \t\r\n\uFEFF;{}(),#=]+/y;
const DELIMITER = /[ \t\r\n\uFEFF;{}(),#=]/;

const DIMS = /^\d+(?:x\d+)+$/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// ohm's `letter` is any Unicode letter and `digit` is 0-9: the same here.
const WORD = /^[\p{L}_][\p{L}0-9_\-.:/]*$/u;

function classify(text: string): TokenKind {
  if (WORD.test(text)) return "word";
  if (DIMS.test(text)) return "dims";
  if (NUMBER.test(text)) return "number";
  return "invalid";
}

function matchAt(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : at;
}

/** The one-character tokens, which are their own code. */
const PUNCTUATION = new Set<string>([";", "{", "}", "(", ")", ",", "="]);

export function lex(text: string): { tokens: Token[]; codes: string } {
  const tokens: Token[] = [];
  const codes: string[] = [];
  const push = (kind: TokenKind, start: number, end: number) => {
    tokens.push({ kind, start, end });
    codes.push(TOKEN_CODE[kind]);
  };
  let at = 0;
  while (at < text.length) {
    const c = text[at]!;
    let end: number;
    // Punctuation first: the cheapest test, and a file of nothing but '{' must lex fast (parse.ts, E108).
    if (PUNCTUATION.has(c)) push(c as TokenKind, at, (end = at + 1));
    else if ((end = matchAt(SPACE, text, at)) > at) {
      at = end;
      continue;
    } else if ((end = matchAt(NEWLINE, text, at)) > at) push("newline", at, end);
    else if (c === "#") push("comment", at, (end = matchAt(COMMENT, text, at)));
    else if (c === '"') {
      end = matchAt(STRING_BODY, text, at);
      if (text[end] !== '"') push("unterminated", at, end);
      else if (end + 1 === text.length || DELIMITER.test(text[end + 1]!)) push("string", at, ++end);
      // `"a"b` is no string: the whole run up to a delimiter is one invalid token.
      else push("invalid", at, (end = matchAt(RUN, text, at)));
    } else {
      end = matchAt(RUN, text, at);
      push(classify(text.slice(at, end)), at, end);
    }
    at = end;
  }
  return { tokens, codes: codes.join("") };
}
