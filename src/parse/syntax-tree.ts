// The syntax tree: what the parser (ohm grammar in grammar/nn.ohm) gives the IR builder and the formatter.
// It mirrors the text closely (every node has its span, numbers keep their text, comments are kept) and knows
// nothing of ops or their meaning: `dense 128 relu` and `optimizer adam lr=0.01` are both a Statement.
//
//   File      = Item*                       items separated by newlines or ';'
//   Item      = Statement | Block | Comment
//   Block     = keyword Arg* '{' Item* '}'  e.g. model bn { ... }, train { ... }, repeat 2 { ... }; blocks nest
//               at any depth (the builder says which keyword may nest where), at most 64 levels (E108)
//   Statement = head Arg*                   Arg = Value | Option (key=Value)
//   A block definition's name carries its parameter list: block basic(filters, stride=1) { ... }
import type { Span } from "../ir/schema.ts";

export type { Span };

export interface Word {
  kind: "word";
  text: string;
  span: Span;
}

export type Value =
  | { kind: "number"; text: string; value: number; span: Span }
  /** `28x28`, `3x3`, `28x28x1`: the dims of a shape or kernel. A bare integer is a "number", not dims. */
  | { kind: "dims"; text: string; values: number[]; span: Span }
  | Word
  | { kind: "string"; text: string; value: string; span: Span }
  /** Text that is no valid value (e.g. `1.2.3`, `12abc`): kept so the builder can report it (E101). */
  | { kind: "invalid"; text: string; span: Span };

export interface Option {
  kind: "option";
  key: Word;
  value: Value;
  span: Span;
}

export type Arg = Value | Option;

export interface Statement {
  kind: "statement";
  head: Word;
  args: Arg[];
  /** A comment on the same line after the statement (kept by the formatter). */
  trailingComment?: Comment;
  span: Span;
}

/** A parameter of a block definition: `filters` or `stride=1` in `block basic(filters, stride=1) {`. */
export interface Param {
  kind: "param";
  name: Word;
  /** The default as written; absent when the parameter has none. */
  default?: Value;
  span: Span;
}

export interface Block {
  kind: "block";
  keyword: Word;
  /** Every head argument after the keyword, as written: `model bn {` [bn], `repeat 2 {` [2], `residual {` [] */
  args: Arg[];
  /** args[0] when it is a word: the name of `model bn`, `block basic(...)`. */
  name?: Word;
  /** The parameter list attached to the name, `block basic(filters, stride=1) {`; only where one was written. */
  params?: Param[];
  items: Item[];
  /** A comment on the header line, after '{' (`model bn {  # with batchnorm`). */
  headerComment?: Comment;
  /** A comment on the same line after the closing '}'. */
  trailingComment?: Comment;
  span: Span;
}

export interface Comment {
  kind: "comment";
  /** Including the leading '#'. */
  text: string;
  span: Span;
}

export type Item = Statement | Block | Comment;

export interface SourceFile {
  kind: "file";
  items: Item[];
  span: Span;
}
