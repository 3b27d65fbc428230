// grammar/nn.ohm is the definition of the syntax; src/parse/match.ts matches it by hand (ohm was 20 s and 3 GB
// for 1 MiB of newlines). This file keeps the two the same: the committed bundle is what nn.ohm compiles to
// (when that fails, run `npm run gen:grammar`), and on thousands of token strings, random and from the
// fixtures, ohm and the matcher agree on success, on the entries matched, and on a failure's position and
// expected text (what E100 reports).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Node } from "ohm-js";
import * as ohm from "ohm-js";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import bundled from "../../grammar/nn.ohm-bundle.js";
import { lex, Tok, type TokenKind, type Tokens } from "../../src/parse/lex.ts";
import { Matcher, type RawArg, type RawEntry, type RawParams } from "../../src/parse/match.ts";
import { Random } from "../../src/util/random.ts";

const bundle = suite("grammar bundle");

bundle("is up to date with grammar/nn.ohm", () => {
  const source = readFileSync(new URL("../../grammar/nn.ohm", import.meta.url), "utf8");
  const fresh = ohm.grammar(source);
  // toRecipe() is public ohm API (the bundles are built from it) but missing from its .d.ts.
  const recipe = (g: object) => (g as { toRecipe(): string }).toRecipe();
  assert.is(recipe(bundled), recipe(fresh), "stale bundle: run npm run gen:grammar");
  const types = readFileSync(new URL("../../grammar/nn.ohm-bundle.d.ts", import.meta.url), "utf8");
  for (const rule of Object.keys(fresh.rules).filter((r) => !(r in ohm.ohmGrammar.rules) && r !== "space"))
    assert.ok(
      types.includes(`  ${rule}?:`),
      `rule '${rule}' missing from the .d.ts: run npm run gen:grammar`,
    );
});

bundle.run();

// ---- the matcher against ohm

/** The character grammar/nn.ohm's lexical rules name for each token kind. */
const CODE: Record<TokenKind, string> = {
  [Tok.word]: "w",
  [Tok.number]: "n",
  [Tok.dims]: "d",
  [Tok.string]: "s",
  [Tok.unterminated]: "u",
  [Tok.invalid]: "i",
  [Tok.equals]: "=",
  [Tok.semicolon]: ";",
  [Tok.open]: "{",
  [Tok.close]: "}",
  [Tok.lparen]: "(",
  [Tok.rparen]: ")",
  [Tok.comma]: ",",
  [Tok.newline]: "\n",
  [Tok.comment]: "#",
};
const KIND = new Map(Object.entries(CODE).map(([kind, code]) => [code, Number(kind) as TokenKind]));

/** Tokens whose text is their code, one character each: spans are then token indexes, as ohm's are. */
function tokensOf(codes: string): Tokens {
  const n = codes.length;
  const tokens: Tokens = {
    count: n,
    kinds: new Uint8Array(n),
    starts: new Int32Array(n),
    ends: new Int32Array(n),
  };
  for (let i = 0; i < n; i++) {
    tokens.kinds[i] = KIND.get(codes[i]!)!;
    tokens.starts[i] = i;
    tokens.ends[i] = i + 1;
  }
  return tokens;
}

// One canonical text for the entries of either side. Runs of separators are one entry (as the matcher makes
// them); a run is "newline" when it holds one.
const at = (span: readonly number[]) => `${span[0]}-${span[1]}`;
const argText = (a: RawArg) => (a.kind === "option" ? `${a.key.span[0]}=${a.value.span[0]}` : `${a.span[0]}`);
const paramsText = (p: RawParams | undefined) =>
  p
    ? `(${at(p.open)} ${p.list.map((q) => (q.default ? `${q.name.span[0]}=${q.default.span[0]}` : q.name.span[0])).join(",")} ${at(p.close)})`
    : "";

function canonical(entries: RawEntry[]): string[] {
  return entries.map((e) => {
    switch (e.kind) {
      case "statement":
        return `S ${at(e.span)} ${e.head.span[0]} [${e.args.map(argText).join(" ")}]${paramsText(e.params)}`;
      case "block":
        return `B ${at(e.span)} ${e.head.span[0]} [${e.args.map(argText).join(" ")}]${paramsText(e.params)} ${at(e.open)} ${e.closed ? "closed" : "open"} {${canonical(e.entries).join("; ")}}`;
      case "comment":
        return `C ${at(e.comment.span)}`;
      default:
        return `${e.kind === "stray" ? "X" : e.kind === "newline" ? "N" : "G"} ${e.start}-${e.end}`;
    }
  });
}

/** ohm's entries in the same form, from its parse tree. */
const semantics = bundled.createSemantics();
const span = (n: Node) => [n.source.startIdx, n.source.endIdx];
/** What the matcher makes of a run of separators: one entry, "N" when it holds a newline. */
function mergeGaps(entries: Array<string | { gap: number[]; newline: boolean }>): string[] {
  const out: string[] = [];
  let run: { start: number; end: number; newline: boolean } | undefined;
  const flush = () => {
    if (run) out.push(`${run.newline ? "N" : "G"} ${run.start}-${run.end}`);
    run = undefined;
  };
  for (const e of entries) {
    if (typeof e === "string") {
      flush();
      out.push(e);
    } else if (run) {
      run.end = e.gap[1]!;
      run.newline ||= e.newline;
    } else run = { start: e.gap[0]!, end: e.gap[1]!, newline: e.newline };
  }
  flush();
  return out;
}
const gapEntry = (gap: Node) =>
  gap.sourceString === "#" ? `C ${at(span(gap))}` : { gap: span(gap), newline: gap.sourceString === "\n" };
semantics.addOperation<unknown>("entry", {
  topEntry_item: (item) => item["item"](),
  topEntry_gap: gapEntry,
  topEntry_stray: (brace) => `X ${at(span(brace))}`,
  blockEntry_item: (item) => item["item"](),
  blockEntry_gap: gapEntry,
});
semantics.addOperation<string>("arg", {
  arg_option: (key, _eq, value) => `${key.source.startIdx}=${value.source.startIdx}`,
  arg_value: (value) => `${value.source.startIdx}`,
  param_default: (name, _eq, value) => `${name.source.startIdx}=${value.source.startIdx}`,
  param_name: (name) => `${name.source.startIdx}`,
});
semantics.addOperation<string>("item", {
  item(head, signature, args, body) {
    const sig = signature.children[0];
    let params = "";
    const argTexts = args.children.map((a) => a["arg"]() as string);
    if (sig) {
      const [word, open, list, close] = sig.children as [Node, Node, Node, Node];
      const p = list.children[0];
      const names = p ? [p.children[0]!, ...p.children[2]!.children] : [];
      params = `(${at(span(open))} ${names.map((n) => n["arg"]()).join(",")} ${at(span(close))})`;
      argTexts.unshift(`${word.source.startIdx}`);
    }
    const text = `${head.source.startIdx} [${argTexts.join(" ")}]${params}`;
    const block = body.children[0];
    if (!block) {
      const [start, end] = span(head);
      return `S ${start}-${Math.max(end!, args.source.endIdx, sig ? sig.source.endIdx : 0)} ${text}`;
    }
    const [open, entries, close] = block.children as [Node, Node, Node];
    const closed = close.children[0]!.ctorName === "blockClose_closed";
    const inner = mergeGaps(entries.children.map((e) => e["entry"]()));
    return `B ${span(head)[0]}-${close.source.endIdx} ${text} ${at(span(open))} ${closed ? "closed" : "open"} {${inner.join("; ")}}`;
  },
});
semantics.addOperation<string[]>("file", {
  file: (entries, _end) => mergeGaps(entries.children.map((e) => e["entry"]())),
});

function viaOhm(codes: string) {
  const result = bundled.match(codes);
  if (result.failed())
    return { failure: { at: result.getRightmostFailurePosition(), expected: result.getExpectedText() } };
  return { entries: semantics(result)["file"]() as string[] };
}

function viaMatcher(codes: string) {
  const result = new Matcher(tokensOf(codes), codes).match();
  return "entries" in result ? { entries: canonical(result.entries) } : { failure: result.failure };
}

// Pieces of specs as token codes, joined at random: mostly valid ones, and now and then one of every kind of
// failure (a '{' without a head, '=' without a value, lists that do not close, stray ')' and ',').
const VALID = [
  ...["w", "wn", "wwn", "ww=n", "wd", "wws", "wi", "wu", "\n", ";", "#", "\n\n", ";\n", "#\n"],
  ...["w{", "ww{", "wn{", "}", "}}", "w{wn}", "w{\n", "ww(w,w=n){", "ww(){", "ww(w)\n", "ww(w)w{"],
];
const BROKEN = ["w=", "=", "{", "(", ")", ",", "ww(", "ww(w", "ww(w,", "ww(w=", "ww(w=n", "ww(w,{", "ww(w{"];
const BROKEN_TOO = [...BROKEN, "w(n)", "wn,n", "ww=)", "ww(w=n,)", "ww(w=n,w=", "w{w=}"];

function randomCodes(rng: Random): string {
  let out = "";
  const pieces = 1 + rng.int(10);
  for (let i = 0; i < pieces; i++)
    out += rng.next() < 0.06 ? BROKEN_TOO[rng.int(BROKEN_TOO.length)]! : VALID[rng.int(VALID.length)]!;
  return out;
}

/** The token codes of every .nn fixture and spec, each cut short at a few places too. */
function corpusCodes(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".nn")) files.push(readFileSync(path, "utf8"));
    }
  };
  walk(new URL("../fixtures/", import.meta.url).pathname);
  walk(new URL("../../specs/", import.meta.url).pathname);
  return files.flatMap((text) => {
    const { kinds, count } = lex(text);
    const codes = Array.from(kinds.subarray(0, count), (k) => CODE[k as TokenKind]).join("");
    return [codes, codes.slice(0, codes.length >> 1), codes.slice(0, codes.length - 3)];
  });
}

const agree = suite("grammar: the matcher agrees with ohm");

agree("on random token strings and on the fixtures' and specs' tokens", () => {
  const rng = new Random(20261207);
  const cases = [...corpusCodes(), ...Array.from({ length: 20000 }, () => randomCodes(rng))];
  let failures = 0;
  for (const codes of cases) {
    const expected = viaOhm(codes);
    const actual = viaMatcher(codes);
    assert.equal(actual, expected, `token codes ${JSON.stringify(codes)}`);
    if ("failure" in expected) failures++;
  }
  // Both outcomes must be exercised, and in numbers.
  assert.ok(failures > cases.length / 5 && failures < cases.length * 0.8, `${failures} of ${cases.length}`);
});

agree("the failure texts the E100 messages build on all occur", () => {
  const rng = new Random(7);
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const result = viaMatcher(randomCodes(rng));
    if (result.failure) seen.add(result.failure.expected);
  }
  assert.equal([...seen].sort(), ['")"', "a value", "a word", "end of input", 'end of input or "}"']);
});

agree.run();
