// Test helper: a tiny hand-rolled tokenizer that turns simple .nn text into a syntax tree (parse/syntax-tree.ts),
// so the builder can be tested without the real parser. Knows words, numbers, dims, strings, key=value,
// blocks and comments; nothing about errors. The real parser (src/parse/parse.ts) is tested on its own.
import type { Arg, Block, Item, SourceFile, Statement, Value } from "../../src/parse/syntax-tree.ts";

export function miniParse(text: string): SourceFile {
  const tokens: { text: string; start: number; end: number }[] = [];
  const re = /"[^"\n]*"|#[^\n]*|[{};\n]|[^\s{};#]+/g;
  for (let m = re.exec(text); m; m = re.exec(text))
    tokens.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  let i = 0;
  const value = (t: string, start: number): Value => {
    const span: [number, number] = [start, start + t.length];
    if (t.startsWith('"')) return { kind: "string", text: t, value: t.slice(1, -1), span };
    if (/^\d+(x\d+)+$/.test(t)) return { kind: "dims", text: t, values: t.split("x").map(Number), span };
    if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t))
      return { kind: "number", text: t, value: Number(t), span };
    if (/^[A-Za-z_][\w\-.:/]*$/.test(t)) return { kind: "word", text: t, span };
    return { kind: "invalid", text: t, span };
  };
  const items = (closing: boolean): Item[] => {
    const out: Item[] = [];
    while (i < tokens.length) {
      const tok = tokens[i]!;
      if (tok.text === "}" && closing) return out;
      if (tok.text === "\n" || tok.text === ";" || tok.text === "}") {
        i++;
        continue;
      }
      if (tok.text.startsWith("#")) {
        out.push({ kind: "comment", text: tok.text, span: [tok.start, tok.end] });
        i++;
        continue;
      }
      const line: typeof tokens = [];
      while (
        i < tokens.length &&
        !["\n", ";", "{", "}"].includes(tokens[i]!.text) &&
        !tokens[i]!.text.startsWith("#")
      ) {
        line.push(tokens[i++]!);
      }
      const head = {
        kind: "word" as const,
        text: line[0]!.text,
        span: [line[0]!.start, line[0]!.end] as [number, number],
      };
      if (tokens[i]?.text === "{") {
        i++;
        const body = items(true);
        const end = tokens[i]?.end ?? text.length;
        i++;
        const block: Block = { kind: "block", keyword: head, items: body, span: [line[0]!.start, end] };
        if (line[1]) block.name = { kind: "word", text: line[1].text, span: [line[1].start, line[1].end] };
        out.push(block);
        continue;
      }
      const args: Arg[] = line.slice(1).map((t) => {
        const eq = t.text.indexOf("=");
        if (eq <= 0) return value(t.text, t.start);
        return {
          kind: "option",
          key: { kind: "word", text: t.text.slice(0, eq), span: [t.start, t.start + eq] },
          value: value(t.text.slice(eq + 1), t.start + eq + 1),
          span: [t.start, t.end],
        };
      });
      const stmt: Statement = {
        kind: "statement",
        head,
        args,
        span: [line[0]!.start, line[line.length - 1]!.end],
      };
      out.push(stmt);
    }
    return out;
  };
  return { kind: "file", items: items(false), span: [0, text.length] };
}
