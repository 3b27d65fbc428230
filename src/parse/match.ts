// Parse phase, middle: the grammar of grammar/nn.ohm matched over the tokens -> a flat list of raw entries per
// level (items, separators, comments, stray '}'), each with its source span. What the entries mean is decided
// in parse.ts.
//
// Why by hand, not by ohm: the grammar is LL(1) over tokens (one token always decides), and ohm costs about
// 15 us and over 1 KB per token whatever the grammar's shape (a position's memo table, a node per rule
// application), so 1 MiB of newlines took 20 s and 3 GB. This matcher is a loop over the token kinds with an
// explicit stack of open blocks: linear time, no memory per separator. grammar/nn.ohm stays the definition:
// test/parse/grammar.test.ts matches random token strings with both and requires the same outcome, the same
// entries, and on failure the same position and expected text (ohm's rightmost failure, which is what E100
// reports).
//
// Recovery (parse.ts) blanks the text around a failure and matches again; rewind() keeps every entry whose
// match looked only at tokens before the first changed one, so each retry costs what changed, not the file.
import { LAST_VALUE, Tok, type Tokens } from "./lex.ts";
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

/**
 * A run of separators is one entry, spanning the run: "newline" when it holds a newline, else "semicolon" (what
 * the run means to parse.ts is only whether it ends a line).
 */
export type RawEntry =
  | RawItem
  | RawBlock
  /** [start, end) as two numbers, not a Span: a file may hold a million of these, kept while it is shaped. */
  | { kind: "semicolon" | "newline" | "stray"; start: number; end: number }
  | { kind: "comment"; comment: Comment };

/** Where a match failed: ohm's rightmost failure position (a token index; the count is the end) and text. */
export interface MatchFailure {
  at: number;
  expected: string;
}

/** The head of an item as matched, up to `end` (the token after it). */
interface Head {
  head: RawValue;
  args: RawArg[];
  params?: RawParams;
  end: number;
  /** The last token the match looked at (the one after the head, or further on a failed lookahead). */
  examined: number;
  /** A failure past `end` inside the head (`units= }`, `basic(x, {`): the match gets stuck right after it. */
  lookahead?: MatchFailure;
}

/**
 * The entries of the file or of one open block, with per entry the token after it and the last one examined
 * (in `marks`, two Int32 per entry: a million entries are 8 MB there, 32 MB in two arrays of numbers).
 */
interface Level {
  entries: RawEntry[];
  marks: Int32Array;
  block?: { head: Head; open: number };
}

const newLevel = (block?: Level["block"]): Level => ({
  entries: [],
  marks: new Int32Array(16),
  ...(block ? { block } : {}),
});

/** The token after entry i of a level. */
const endOf = (level: Level, i: number) => level.marks[2 * i]!;
/** The last token entry i of a level looked at. */
const examinedBy = (level: Level, i: number) => level.marks[2 * i + 1]!;

/**
 * The args of a head that has none, shared (frozen: nothing changes args in place): a file of a million bare
 * statements (`relu`) would otherwise hold a million empty arrays.
 */
const NO_ARGS = Object.freeze([]) as unknown as RawArg[];

/** Past the last token: no token kind. */
const END = 255;
// The kinds as local constants: read in the hottest loop, and an imported binding costs a lookup each time.
const WORD = Tok.word;
const NUMBER = Tok.number;
const DIMS = Tok.dims;
const STRING = Tok.string;
const UNTERMINATED = Tok.unterminated;
const VALUE_MAX = LAST_VALUE;
const EQUALS = Tok.equals;
const SEMICOLON = Tok.semicolon;
const OPEN = Tok.open;
const CLOSE = Tok.close;
const LPAREN = Tok.lparen;
const RPAREN = Tok.rparen;
const COMMA = Tok.comma;
const NEWLINE = Tok.newline;
const COMMENT = Tok.comment;

export class Matcher {
  private readonly stack: Level[] = [newLevel()];
  private pos = 0;
  /** The heads whose lookahead failed, by their statement entry (the match got stuck right after them). */
  private readonly lookaheads = new Map<RawEntry, MatchFailure>();
  /** The last token the head being matched looked at. */
  private examined = 0;

  constructor(
    private readonly tokens: Tokens,
    private text: string,
  ) {}

  /** Matches from where the last match (or rewind) left off: the file's entries, or where it failed. */
  match(): { entries: RawEntry[] } | { failure: MatchFailure } {
    const { kinds, starts, ends, count } = this.tokens;
    for (;;) {
      const level = this.stack[this.stack.length - 1]!;
      const p = this.pos;
      if (p >= count) {
        if (!level.block) return { entries: level.entries };
        this.closeBlock(false);
        continue;
      }
      const kind = kinds[p]!;
      if (kind <= VALUE_MAX) {
        const head = this.matchHead(p);
        if (kinds[head.end] === OPEN && head.end < count) {
          this.stack.push(newLevel({ head, open: head.end }));
          this.pos = head.end + 1;
        } else {
          const entry: RawEntry = statement(head);
          this.add(level, entry, head.end, head.examined);
          if (head.lookahead) this.lookaheads.set(entry, head.lookahead);
          this.pos = head.end;
        }
        continue;
      }
      if (kind === SEMICOLON || kind === NEWLINE) {
        let q = p;
        let newline = false;
        for (; q < count && (kinds[q] === SEMICOLON || kinds[q] === NEWLINE); q++)
          if (kinds[q] === NEWLINE) newline = true;
        this.add(
          level,
          { kind: newline ? "newline" : "semicolon", start: starts[p]!, end: ends[q - 1]! },
          q,
          q,
        );
        this.pos = q;
        continue;
      }
      if (kind === COMMENT) {
        const span: Span = [starts[p]!, ends[p]!];
        const comment: Comment = { kind: "comment", text: this.text.slice(span[0], span[1]), span };
        this.add(level, { kind: "comment", comment }, p + 1, p);
        this.pos = p + 1;
        continue;
      }
      if (kind === CLOSE) {
        if (level.block) this.closeBlock(true);
        else {
          this.add(level, { kind: "stray", start: starts[p]!, end: ends[p]! }, p + 1, p);
          this.pos = p + 1;
        }
        continue;
      }
      return { failure: this.stuck(level, p) };
    }
  }

  /**
   * The tokens from `first` on changed (and the text with them): drops what was matched from them, or from a
   * look at them, and the blocks opened there, so the next match() goes on from the last entry still good.
   */
  rewind(first: number, text: string): void {
    this.text = text;
    while (this.stack.length > 1 && this.stack[this.stack.length - 1]!.block!.open >= first) this.stack.pop();
    const level = this.stack[this.stack.length - 1]!;
    while (level.entries.length > 0 && examinedBy(level, level.entries.length - 1) >= first)
      this.lookaheads.delete(level.entries.pop()!);
    const n = level.entries.length;
    this.pos = n > 0 ? endOf(level, n - 1) : level.block ? level.block.open + 1 : 0;
  }

  private add(level: Level, entry: RawEntry, end: number, examined: number): void {
    const i = level.entries.push(entry) - 1;
    if (2 * i + 2 > level.marks.length) {
      const bigger = new Int32Array(level.marks.length * 2);
      bigger.set(level.marks);
      level.marks = bigger;
    }
    level.marks[2 * i] = end;
    level.marks[2 * i + 1] = examined;
  }

  /** Ends the innermost block at its '}' (at this.pos) or, unclosed, at the end of the file. */
  private closeBlock(closed: boolean): void {
    const level = this.stack.pop()!;
    const { head, open } = level.block!;
    const { starts, ends, count } = this.tokens;
    const block: RawBlock = {
      kind: "block",
      head: head.head,
      args: head.args,
      ...(head.params ? { params: head.params } : {}),
      open: [starts[open]!, ends[open]!],
      entries: level.entries,
      closed,
      span: [head.head.span[0], closed ? ends[this.pos]! : this.text.length],
    };
    const at = closed ? this.pos : count;
    this.add(this.stack[this.stack.length - 1]!, block, closed ? at + 1 : at, at);
    if (closed) this.pos++;
  }

  /**
   * The failure at token `s`, where no entry can start (and, in a block, no '}' closes it): what ohm reports
   * there, which is all that is left unexplained after everything it tried at `s` succeeded or ended there.
   */
  private stuck(level: Level, s: number): MatchFailure {
    const n = level.entries.length;
    const last = level.entries[n - 1];
    const lookahead = last && endOf(level, n - 1) === s ? this.lookaheads.get(last) : undefined;
    if (lookahead && lookahead.at > s) return lookahead;
    return { at: s, expected: level.block ? 'end of input or "}"' : "end of input" };
  }

  /**
   * `item = value signature? arg* blockBody?` up to the blockBody, from the value at p. A failure recorded
   * here is kept only when ohm would report it: one that nothing matched past (a value missing after '=', a
   * parameter list that does not close), not the alternatives tried where the head simply ends.
   */
  private matchHead(p: number): Head {
    this.examined = p;
    const head = this.valueOf(p);
    let args = NO_ARGS;
    let params: RawParams | undefined;
    let lookahead: MatchFailure | undefined;
    let q = p + 1;
    // signature = word "(" params? ")"
    if (this.look(q) === WORD && this.look(q + 1) === LPAREN) {
      const list = this.matchParams(q + 2);
      if ("close" in list) {
        const { starts, ends } = this.tokens;
        params = {
          open: [starts[q + 1]!, ends[q + 1]!],
          close: [starts[list.close]!, ends[list.close]!],
          list: list.params,
        };
        args = [this.valueOf(q)];
        q = list.close + 1;
      } else lookahead = list.failure;
    }
    // arg = optionKey "=" value -- option | value -- value. A number is a key (`class_weight 0=1.0 1=2.5`) only
    // written against its '=' (ohm's token strings are: their tokens have no spaces between them); `dense 10 = 5`
    // stays the stray '=' it was.
    const { starts, ends } = this.tokens;
    for (;;) {
      const kind = this.look(q);
      const keyed = kind === WORD || (kind === NUMBER && ends[q] === starts[q + 1]);
      if (keyed && this.look(q + 1) === EQUALS) {
        if (this.look(q + 2) <= VALUE_MAX) {
          const written = this.valueOf(q);
          const key: Word =
            kind === WORD ? (written as Word) : { kind: "word", text: written.text, span: written.span };
          const value = this.valueOf(q + 2);
          if (args === NO_ARGS) args = [];
          args.push({ kind: "option", key, value, span: [key.span[0], value.span[1]] });
          q += 3;
          continue;
        }
        lookahead = furthest(lookahead, { at: q + 2, expected: "a value" });
      }
      if (kind > VALUE_MAX) break;
      if (args === NO_ARGS) args = [];
      args.push(this.valueOf(q));
      q++;
    }
    return {
      head,
      args,
      ...(params ? { params } : {}),
      end: q,
      examined: this.examined,
      ...(lookahead ? { lookahead } : {}),
    };
  }

  /**
   * `params? ")"` from token i, after a signature's '(': the parameters and the ')', or the failure ohm keeps
   * (a word missing after ',', a value after '=', else the ')' where the list stops).
   */
  private matchParams(i: number): { params: RawParam[]; close: number } | { failure: MatchFailure } {
    const params: RawParam[] = [];
    const failure: { at?: MatchFailure } = {};
    let j = this.matchParam(i, params, failure);
    if (j < 0) j = i;
    else
      while (this.look(j) === COMMA) {
        const next = this.matchParam(j + 1, params, failure);
        if (next < 0) {
          failure.at = furthest(failure.at, { at: j + 1, expected: "a word" });
          break;
        }
        j = next;
      }
    if (this.look(j) === RPAREN) return { params, close: j };
    return { failure: furthest(failure.at, { at: j, expected: '")"' }) };
  }

  /** `param = word "=" value -- default | word -- name` at token i: the index after it, or -1. */
  private matchParam(i: number, params: RawParam[], failure: { at?: MatchFailure }): number {
    if (this.look(i) !== WORD) return -1;
    const name = this.valueOf(i) as Word;
    if (this.look(i + 1) === EQUALS) {
      if (this.look(i + 2) <= VALUE_MAX) {
        const value = this.valueOf(i + 2);
        params.push({ kind: "param", name, default: value, span: [name.span[0], value.span[1]] });
        return i + 3;
      }
      failure.at = furthest(failure.at, { at: i + 2, expected: "a value" });
    }
    params.push({ kind: "param", name, span: name.span });
    return i + 1;
  }

  /** The kind of token i (END past the last), noting how far the head being matched looked. */
  private look(i: number): number {
    if (i > this.examined) this.examined = i;
    return i < this.tokens.count ? this.tokens.kinds[i]! : END;
  }

  private valueOf(index: number): RawValue {
    const { kinds, starts, ends } = this.tokens;
    const span: Span = [starts[index]!, ends[index]!];
    const text = this.text.slice(span[0], span[1]);
    switch (kinds[index]) {
      case WORD:
        return { kind: "word", text, span };
      case NUMBER:
        return { kind: "number", text, value: Number(text), span };
      case DIMS:
        return { kind: "dims", text, values: text.split("x").map(Number), span };
      case STRING:
        return { kind: "string", text, value: unescape(text.slice(1, -1)), span };
      case UNTERMINATED:
        return { kind: "string", text, value: unescape(text.slice(1)), span, unterminated: true };
      default:
        return { kind: "invalid", text, span };
    }
  }
}

/** Of two failures, the one further right (ohm reports the rightmost); the first when they tie. */
function furthest(a: MatchFailure | undefined, b: MatchFailure): MatchFailure {
  return a && a.at >= b.at ? a : b;
}

function statement(head: Head): RawItem {
  const end = Math.max((head.args.at(-1) ?? head.head).span[1], head.params?.close[1] ?? 0);
  const { span } = head.head;
  return {
    kind: "statement",
    head: head.head,
    args: head.args,
    ...(head.params ? { params: head.params } : {}),
    // A statement that is its head alone shares the head's span (spans are never changed in place).
    span: end === span[1] ? span : [span[0], end],
  };
}

/** The two escapes a string knows: \" and \\ (a lone backslash stays, so Windows paths need no doubling). */
const unescape = (body: string) => body.replace(/\\(["\\])/g, "$1");
