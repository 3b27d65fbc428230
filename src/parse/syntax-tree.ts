// The syntax tree: what the parser (ohm grammar in grammar/nn.ohm) gives the IR builder and the formatter.
// It mirrors the text closely (every node has its span, numbers keep their text, comments are kept) and knows
// nothing of ops or their meaning: `dense 128 relu` and `optimizer adam lr=0.01` are both a Statement.
//
//   File      = Item*                       items separated by newlines or ';'
//   Item      = Statement | Block | Comment
//   Block     = keyword [name] '{' Item* '}'   e.g. model bn { ... }, train { ... }, experiment sweep { ... }
//   Statement = head Arg*                   Arg = Value | Option (key=Value)
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

export interface Block {
  kind: "block";
  keyword: Word;
  name?: Word;
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
