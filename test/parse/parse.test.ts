// The parser: trees (shape and spans) of good inputs, every syntax error code with golden rendered
// diagnostics (test/fixtures/parse/<case>/{input.nn,expected.txt}), all errors of a file in one run.
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseSource } from "../../src/parse/parse.ts";
import type { Block, Statement } from "../../src/parse/syntax-tree.ts";
import { caseNames, fixturesDir, golden, readCase, renderParse } from "./helpers.ts";

const codes = (text: string) => parseSource(text).diagnostics.map((d) => d.code);
const slice = (text: string, span: [number, number]) => text.slice(span[0], span[1]);

const trees = suite("parse: trees");

trees("the notebook MLP: ';' separates statements, values keep their kind and text", () => {
  const text = "input 28x28; flatten; dense 128 relu; dense 10 softmax";
  const { tree, diagnostics } = parseSource(text);
  assert.equal(diagnostics, []);
  assert.equal(
    tree.items.map((i) => slice(text, i.span)),
    ["input 28x28", "flatten", "dense 128 relu", "dense 10 softmax"],
  );
  const input = tree.items[0] as Statement;
  assert.equal(input.args[0], { kind: "dims", text: "28x28", values: [28, 28], span: [6, 11] });
  const dense = tree.items[2] as Statement;
  assert.equal(dense.head, { kind: "word", text: "dense", span: [22, 27] });
  assert.equal(dense.args[0], { kind: "number", text: "128", value: 128, span: [28, 31] });
  assert.equal(dense.args[1], { kind: "word", text: "relu", span: [32, 36] });
  assert.equal(tree.span, [0, text.length]);
});

trees("numbers, dims, words with path characters, strings with escapes, options", () => {
  const text = 'x -1 .5 1e-3 2E+3 28x28x1 fashion-mnist idx:./data/a_b "a \\"q\\" \\\\ C:\\d" k=v n=-0.5';
  const { tree, diagnostics } = parseSource(text);
  assert.equal(diagnostics, []);
  const args = (tree.items[0] as Statement).args;
  assert.equal(
    args.map((a) => (a.kind === "option" ? `${a.key.text}=${a.value.kind}` : a.kind)),
    ["number", "number", "number", "number", "dims", "word", "word", "string", "k=word", "n=number"],
  );
  assert.equal(
    args.slice(0, 4).map((a) => (a.kind === "number" ? a.value : NaN)),
    [-1, 0.5, 0.001, 2000],
  );
  assert.equal(args[7], {
    kind: "string",
    text: '"a \\"q\\" \\\\ C:\\d"',
    value: 'a "q" \\ C:\\d',
    span: [55, 72],
  });
  const option = args[9]!;
  assert.equal(slice(text, option.span), "n=-0.5");
});

trees("blocks hold their items; comments go where they were written", () => {
  const text =
    "# top\nmodel bn {  # head\n  # own line\n  dense 10  # after\n} # closing\ntrain { data mnist }\n";
  const { tree, diagnostics } = parseSource(text);
  assert.equal(diagnostics, []);
  assert.equal(
    tree.items.map((i) => i.kind),
    ["comment", "block", "block"],
  );
  const model = tree.items[1] as Block;
  assert.equal([model.keyword.text, model.name?.text], ["model", "bn"]);
  assert.equal(model.headerComment?.text, "# head");
  assert.equal(model.trailingComment?.text, "# closing");
  assert.equal(
    model.items.map((i) => i.kind),
    ["comment", "statement"],
  );
  assert.equal((model.items[1] as Statement).trailingComment?.text, "# after");
  assert.equal(slice(text, model.span), "model bn {  # head\n  # own line\n  dense 10  # after\n}");
  const train = tree.items[2] as Block;
  assert.is(train.name, undefined);
  assert.equal(slice(text, train.span), "train { data mnist }");
});

trees("CRLF line ends and a BOM change nothing but offsets", () => {
  const lf = "input 28x28\ndense 10 # c\n";
  const crlf = "\uFEFFinput 28x28\r\ndense 10 # c\r\n";
  const a = parseSource(lf);
  const b = parseSource(crlf);
  assert.equal(b.diagnostics, []);
  const shape = (t: typeof a.tree) => JSON.stringify(t.items, (k, v) => (k === "span" ? undefined : v));
  assert.is(shape(b.tree), shape(a.tree));
  assert.is((b.tree.items[1] as Statement).trailingComment?.text, "# c");
  assert.is(slice(crlf, b.tree.items[0]!.span), "input 28x28");
});

trees("an empty file or one of comments only is no error: an empty item list", () => {
  for (const text of ["", "\n\n", "# only a comment\n  # and another"]) {
    const { tree, diagnostics } = parseSource(text);
    assert.equal(diagnostics, [], JSON.stringify(text));
    assert.ok(tree.items.every((i) => i.kind === "comment"));
  }
});

trees("binary input: one E002 with the byte offset, no parse", () => {
  const { tree, diagnostics } = parseSource("é\0abc {", "x.nn");
  assert.equal(
    diagnostics.map((d) => [d.code, d.file]),
    [["E002", "x.nn"]],
  );
  assert.match(diagnostics[0]!.message, "byte 2");
  assert.equal(tree.items, []);
  // U+FFFD is valid text (compileFile rejects bytes that are not UTF-8 before decoding).
  assert.equal(codes("# ok \uFFFD"), []);
  assert.equal(codes("tab\tand\r\nnewline"), []);
});

const errors = suite("parse: errors");

errors("all syntax errors of a file are reported in one run, each once, top to bottom", () => {
  const text = 'input 28x\noptimizer adam lr=\ndense 10 = 3\n}\ndense 1.2.3\nx "open\n';
  const { diagnostics } = parseSource(text);
  assert.equal(
    diagnostics.map((d) => d.code),
    ["E101", "E100", "E100", "E104", "E101", "E102"],
  );
  const keys = diagnostics.map((d) => `${d.code}@${d.span?.[0]}`);
  assert.equal(new Set(keys).size, keys.length);
});

errors("invalid tokens are values of kind invalid, reported E101 (numbers) or E106 (others)", () => {
  const { tree, diagnostics } = parseSource("dense 1.2.3 12abc 3x a@b");
  const args = (tree.items[0] as Statement).args;
  assert.equal(
    args.map((a) => a.kind),
    ["invalid", "invalid", "invalid", "invalid"],
  );
  assert.equal(
    diagnostics.map((d) => d.code),
    ["E101", "E101", "E101", "E106"],
  );
  assert.is(diagnostics[0]!.message, "invalid number '1.2.3'");
});

errors("a block left open before another block is unclosed there (E103), not a nested block (E105)", () => {
  const { tree, diagnostics } = parseSource("model a {\n  input 28x28\ntrain {\n  data mnist\n}\n");
  assert.equal(
    diagnostics.map((d) => [d.code, d.span]),
    [["E103", [0, 5]]],
  );
  assert.equal(
    tree.items.map((i) => (i.kind === "block" ? i.keyword.text : i.kind)),
    ["model", "train"],
  );
});

errors("a recovery bound: a file of nothing but errors ends, with each reported", () => {
  const text = "= x\n".repeat(200);
  const { diagnostics } = parseSource(text);
  assert.ok(diagnostics.length >= 10 && diagnostics.length <= 51, String(diagnostics.length));
  // Stopping is said, so the list is not taken for complete.
  assert.is(diagnostics.at(-1)!.code, "E107");
});

const fixtures = suite("parse: golden fixtures");
for (const name of caseNames("parse")) {
  fixtures(name, () => {
    const actual = renderParse(readCase("parse", name));
    assert.fixture(actual, golden(join(fixturesDir("parse"), name, "expected.txt"), actual));
    if (name.startsWith("ok-")) assert.match(actual, /^\(no diagnostics\)/);
    else assert.not.match(actual, /^\(no diagnostics\)/);
  });
}

trees.run();
errors.run();
fixtures.run();
