// The parser: trees (shape and spans) of good inputs, nested blocks and block parameter lists included, every
// syntax error code with golden rendered diagnostics (test/fixtures/parse/<case>/{input.nn,expected.txt}), all
// errors of a file in one run, each parenthesis mistake as one error, and the nesting bound (E108).
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { MAX_STATEMENTS, parseSource } from "../../src/parse/parse.ts";
import type { Block, Item, Statement } from "../../src/parse/syntax-tree.ts";
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

const RESNET = `block basic(filters, stride=1) {
  conv2d filters 3x3 stride=stride padding=same bias=false
  batchnorm
  relu
  conv2d filters 3x3 padding=same bias=false
  batchnorm
}
model resnet {
  input 28x28x1
  conv2d 16 3x3 padding=same bias=false; batchnorm; relu
  repeat 2 { residual { basic 16 }; relu }
  residual { basic 32 stride=2; shortcut { conv2d 32 1x1 stride=2 bias=false; batchnorm } }
  relu
  globalavgpool
  dense 10 softmax
}
`;

/** Items as nested [keyword or head, children] pairs: the shape of a tree without its spans. */
const shape = (items: Item[]): unknown[] =>
  items.map((i) =>
    i.kind === "block" ? [i.keyword.text, shape(i.items)] : i.kind === "statement" ? i.head.text : "#",
  );

trees("the ResNet example: block parameters with defaults, repeat args, nested residual and shortcut", () => {
  const { tree, diagnostics } = parseSource(RESNET);
  assert.equal(diagnostics, []);
  const [basic, resnet] = tree.items as [Block, Block];
  assert.equal([basic.keyword.text, basic.name?.text], ["block", "basic"]);
  assert.equal(basic.args, [basic.name]);
  assert.equal(
    basic.params?.map((p) => [p.kind, p.name.text, p.default?.kind, p.default?.text, slice(RESNET, p.span)]),
    [
      ["param", "filters", undefined, undefined, "filters"],
      ["param", "stride", "number", "1", "stride=1"],
    ],
  );
  assert.is(basic.params?.[1]?.default?.kind === "number" && basic.params[1].default.value, 1);
  assert.equal(shape(basic.items), ["conv2d", "batchnorm", "relu", "conv2d", "batchnorm"]);
  assert.is(resnet.params, undefined);
  assert.equal(shape(resnet.items), [
    "input",
    "conv2d",
    "batchnorm",
    "relu",
    ["repeat", [["residual", ["basic"]], "relu"]],
    ["residual", ["basic", ["shortcut", ["conv2d", "batchnorm"]]]],
    "relu",
    "globalavgpool",
    "dense",
  ]);
  const repeat = resnet.items[4] as Block;
  assert.equal(repeat.args, [{ kind: "number", text: "2", value: 2, span: [267, 268] }]);
  assert.is(repeat.name, undefined);
  assert.is(slice(RESNET, repeat.span), "repeat 2 { residual { basic 16 }; relu }");
  const residual = resnet.items[5] as Block;
  assert.equal([residual.args, residual.name, residual.params], [[], undefined, undefined]);
  const shortcut = residual.items[1] as Block;
  assert.is(slice(RESNET, shortcut.span), "shortcut { conv2d 32 1x1 stride=2 bias=false; batchnorm }");
  assert.is(slice(RESNET, (residual.items[0] as Statement).span), "basic 32 stride=2");
});

trees("block heads keep every argument as written; an empty parameter list is a list", () => {
  const text = 'repeat n=2 {}\nmystery 1 "a" x=y {}\nblock b () {}\nblock c(p, q="a,(b)") {}\nmodel m {}';
  const { tree, diagnostics } = parseSource(text);
  assert.equal(diagnostics, []);
  const [repeat, mystery, b, c, m] = tree.items as Block[];
  assert.equal(
    repeat!.args.map((a) => slice(text, a.span)),
    ["n=2"],
  );
  assert.equal(
    mystery!.args.map((a) => a.kind),
    ["number", "string", "option"],
  );
  assert.equal([b!.name?.text, b!.params], ["b", []]);
  const at = text.indexOf('"a,(b)"');
  assert.equal(c!.params![1]!.default, {
    kind: "string",
    text: '"a,(b)"',
    value: "a,(b)",
    span: [at, at + 7],
  });
  assert.equal([m!.name?.text, m!.params], ["m", undefined]);
});

trees("a file of bare layers may hold residual and repeat blocks; add and concat are statements", () => {
  const text = "input 28x28x1\nresidual { dense 8; relu }\nrepeat 2 { relu }\nadd a b\nconcat a b axis=-1\n";
  const { tree, diagnostics } = parseSource(text);
  assert.equal(diagnostics, []);
  assert.equal(shape(tree.items), [
    "input",
    ["residual", ["dense", "relu"]],
    ["repeat", ["relu"]],
    "add",
    "concat",
  ]);
});

trees("blocks nest to 64 levels; comments stay with nested heads and items", () => {
  const deep = "a {\n".repeat(64) + "relu\n" + "}\n".repeat(64);
  const { tree, diagnostics } = parseSource(deep);
  assert.equal(diagnostics, []);
  let depth = 0;
  for (let items = tree.items; items[0]?.kind === "block"; items = items[0].items) depth++;
  assert.is(depth, 64);
  const text = "model m {\n  residual {  # head\n    # own line\n    relu  # after\n  }  # closing\n}\n";
  const residual = (parseSource(text).tree.items[0] as Block).items[0] as Block;
  assert.is(residual.headerComment?.text, "# head");
  assert.is(residual.trailingComment?.text, "# closing");
  assert.equal(
    residual.items.map((i) => (i.kind === "comment" ? i.text : i.trailingComment?.text)),
    ["# own line", "# after"],
  );
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

errors(
  "the parser nests any block: E105 is the builder's; an unclosed block splits only before a top-level one",
  () => {
    assert.equal(codes("model m {\n  train { data mnist }\n  residual { relu }\n}\n"), []);
    // The unclosed residual holds the rest of the file; the train block inside it (two levels down) goes back
    // to the top level, and both open blocks are reported.
    const text = "model a {\n  residual {\n    relu\n  repeat 2 { relu }\ntrain {\n  data mnist\n}\n";
    const { tree, diagnostics } = parseSource(text);
    assert.equal(
      diagnostics.map((d) => [d.code, slice(text, d.span!)]),
      [
        ["E103", "model"],
        ["E103", "residual"],
      ],
    );
    assert.equal(shape(tree.items), [
      ["model", [["residual", ["relu", ["repeat", ["relu"]]]]]],
      ["train", ["data"]],
    ]);
    assert.is(slice(text, tree.items[0]!.span), "model a {\n  residual {\n    relu\n  repeat 2 { relu }\n");
  },
);

errors("head checks apply to model, train, experiment and block only; other keywords' args pass", () => {
  assert.equal(codes('repeat 2 x=1 {}\nresidual a b {}\nshortcut(p) {}\nfoo "s" 1 {}'), ["E100"]);
  assert.equal(codes('repeat 2 x=1 {}\nresidual a b {}\nwhatever a(p) {}\nfoo "s" 1 {}'), []);
  for (const keyword of ["model", "train", "experiment", "block"]) {
    assert.equal(codes(`${keyword} a b {}`), ["E100"], keyword);
    assert.equal(codes(`${keyword} 3 {}`), ["E100"], keyword);
  }
  assert.equal(codes("model m(x) {}"), ["E100"]);
  assert.equal(codes("experiment e() {}"), ["E100"]);
  assert.equal(codes("block b(x) {}"), []);
  // Invalid tokens are reported wherever they are.
  assert.equal(codes("repeat 1.2.3 {}\nblock b(x=1.2.3) {}"), ["E101", "E101"]);
});

errors("a parenthesis outside a block definition's head is one error, with the fix in its help", () => {
  const cases: Array<[string, string, string]> = [
    ["conv2d 32 (3,3) padding=same", "(3,3)", "write 3x3"],
    ["conv2d 32 (3, 3, 3)", "(3, 3, 3)", "write 3x3x3"],
    ["conv2d 32 3x3 strides=(2, 2)", "(2, 2)", "write 2x2"],
    ["basic(16)", "(16)", "write 'basic 16'"],
    ["basic (32, stride = 2) relu", "(32, stride = 2)", "write 'basic 32 stride=2 relu'"],
    ["residual basic(16, stride=2)", "(16, stride=2)", "write 'residual basic 16 stride=2'"],
    ["residual basic(x)", "(x)", "write 'residual basic x'"],
    ["vary batch 32, 128, 512", ",", "write 'vary batch 32 128 512'"],
    ["dense 1,000", ",", "values are separated by spaces, and numbers take no thousands separators"],
    ["dense 10)", ")", "parentheses only appear in a block definition's head"],
    ["repeat 2 (x) { relu }", "(x)", "parentheses only appear in a block definition's head"],
    ["dense 10 (3", "(", "parentheses only appear in a block definition's head"],
  ];
  for (const [line, marked, help] of cases) {
    const text = `input 28x28x1\n${line}\ndense 10\n`;
    const { diagnostics } = parseSource(text);
    assert.equal(
      diagnostics.map((d) => d.code),
      ["E100"],
      line,
    );
    const d = diagnostics[0]!;
    assert.is(slice(text, d.span!), marked, line);
    assert.ok(d.help?.startsWith(help), `${line}: ${d.help}`);
  }
  // Keras' tuple, twice in one statement: the statement is one mistake.
  assert.equal(codes("conv2d 64 (3, 3) strides=(2, 2)"), ["E100"]);
});

errors("a bad parameter list is one error; the block and its items are kept", () => {
  for (const [head, expected] of [
    ["block b(1) {", "a parameter name (a word)"],
    ["block b(x=) {", "a value after '='"],
    ["block b(x y) {", "',' or ')'"],
    ["block b(x, {", "a parameter name (a word)"],
    ["block b(x,) {", "a parameter name (a word)"],
  ]) {
    const { tree, diagnostics } = parseSource(`${head}\n  relu\n}\n`);
    assert.equal(
      diagnostics.map((d) => d.code),
      ["E100"],
      head,
    );
    assert.match(diagnostics[0]!.message, `expected ${expected},`, head);
    assert.equal(shape(tree.items), [["block", ["relu"]]], head);
    assert.is((tree.items[0] as Block).name?.text, "b", head);
  }
  // A definition without its body.
  const { diagnostics } = parseSource("block b(x)\n");
  assert.match(diagnostics[0]!.message, "expected '{' after the parameter list");
});

errors("E108: past 64 levels of '{', one error at the first '{' too deep, fast on 1 MiB of '{'", () => {
  const text = "a {".repeat(65);
  const { tree, diagnostics } = parseSource(text, "x.nn");
  assert.equal(
    diagnostics.map((d) => [d.code, d.span, d.file]),
    [["E108", [194, 195], "x.nn"]],
  );
  assert.is(diagnostics[0]!.message, "blocks are nested more than 64 levels deep");
  assert.equal(tree.items, []);
  // Closed levels do not count, and braces in strings and comments are no braces.
  assert.equal(codes(("a {}\n".repeat(100) + 'a { b "{{{{" } # {{{{\n').repeat(100)), []);
  // Speed is the bench's business (npx tsx bench/parse.ts); here: one error, no stack overflow.
  for (const big of ["{".repeat(1 << 20), "a {".repeat(100_000)]) {
    assert.equal(
      parseSource(big).diagnostics.map((d) => d.code),
      ["E108"],
    );
  }
});

errors("E109: past 100,000 statements, one error at the first one too many, and nothing matched", () => {
  const limit = MAX_STATEMENTS;
  // Exactly the bound: read as usual (separators, comments and block heads as the matcher counts them).
  const at = (n: number) => "relu\n".repeat(n - 2) + "model m { relu }";
  assert.equal(codes(at(limit)), []);
  const { tree, diagnostics } = parseSource(at(limit) + "; relu", "x.nn");
  assert.equal(
    diagnostics.map((d) => [d.code, d.file]),
    [["E109", "x.nn"]],
  );
  const offset = at(limit).length + 2;
  assert.equal(diagnostics[0]!.span, [offset, offset + 4]);
  assert.match(diagnostics[0]!.message, "more than 100,000 statements and comments");
  assert.equal(tree.items, []);
  // Words of one statement and blank lines are not statements; a comment counts as one.
  assert.equal(codes("dense 1 2 3 4 5 6 7 8\n\n".repeat(limit)), []);
  assert.equal(codes("dense 1 2 3 4 5 6 7 8\n\n".repeat(limit + 1)), ["E109"]);
  assert.equal(codes("dense 8 # c\n".repeat(limit / 2)), []);
  assert.equal(codes("# c\n".repeat(limit + 1)), ["E109"]);
  // 1 MiB of one-word statements (524,288): refused, not matched (it took 270 MB).
  assert.equal(
    parseSource("a;".repeat(1 << 19)).diagnostics.map((d) => d.code),
    ["E109"],
  );
});

errors("an unclosed block before 200,000 entries: no spread of them onto the stack", () => {
  // The entries that leave an unclosed block once went back through unshift(...entries): a RangeError.
  const { tree, diagnostics } = parseSource("model m {\n  relu\ntrain {}\n" + ";".repeat(200_000));
  assert.equal(
    diagnostics.map((d) => d.code),
    ["E103"],
  );
  assert.equal(shape(tree.items), [
    ["model", ["relu"]],
    ["train", []],
  ]);
});

errors("a recovery bound: a file of nothing but errors ends, with each reported", () => {
  const text = "= x\n".repeat(200);
  const { diagnostics } = parseSource(text);
  assert.ok(diagnostics.length >= 10 && diagnostics.length <= 51, String(diagnostics.length));
  // Stopping is said, so the list is not taken for complete.
  assert.is(diagnostics.at(-1)!.code, "E107");
});

errors("at most 50 syntax errors, then E107: a megabyte of '}' is not a million messages", () => {
  const { tree, diagnostics } = parseSource("input 4\n" + "}".repeat(1 << 20));
  assert.is(diagnostics.length, 51);
  assert.ok(diagnostics.slice(0, 50).every((d) => d.code === "E104"));
  // The first fifty by position, and the stop said after them.
  assert.equal(diagnostics[0]!.span, [8, 9]);
  assert.equal(diagnostics[49]!.span, [57, 58]);
  assert.equal(diagnostics[50]!.code, "E107");
  assert.equal(diagnostics[50]!.span, [58, 58]);
  // The tree is still whole: the builder reads it.
  assert.equal(shape(tree.items), ["input"]);
  // Fifty errors or fewer: all of them, no E107.
  assert.equal(
    parseSource("input 4\n" + "}\n".repeat(50)).diagnostics.map((d) => d.code),
    Array(50).fill("E104"),
  );
  const values = parseSource("dense 1.2.3\n".repeat(500)).diagnostics;
  assert.equal(values.length, 51);
  assert.is(values.at(-1)!.code, "E107");
});

errors("megabyte runs of one token or pattern: each ends with its few diagnostics", () => {
  // Linear time and memory is the bench's business (npm run bench:fuzz-specs); here, what comes out.
  const run = (unit: string) => parseSource(unit.repeat(Math.ceil((1 << 20) / unit.length)));
  const codes = (unit: string) => [...new Set(run(unit).diagnostics.map((d) => d.code))];
  for (const unit of ["\n", ";", "\r\n", " ", "#", "x", "a", "a "])
    assert.equal(codes(unit), [], JSON.stringify(unit));
  // Over 100,000 statements (E109): 524,288 of `a;`, 131,072 of `dense 1;`.
  for (const unit of ["a;", "a\n", "dense 1;"]) assert.equal(codes(unit), ["E109"], JSON.stringify(unit));
  assert.equal(codes("1"), ["E100"], "a number is no statement");
  assert.equal(codes("a=1 "), ["E100"], "an option is no statement");
  assert.equal(codes("{"), ["E108"]);
  assert.equal(codes("{}"), ["E100", "E107"]);
  assert.equal(codes("=\n"), ["E100", "E107"]);
  assert.equal(codes("1.2.3 "), ["E101", "E107"]);
  assert.equal(codes('"a"b '), ["E106", "E107"]);
  assert.equal(codes("model m {\n"), ["E108"]);
  assert.equal(codes("}\n"), ["E104", "E107"]);
  // Up to the bound, a run is read whole: 90,000 statements of `dense 1;` (720,000 bytes).
  assert.equal(parseSource("dense 1;".repeat(90_000)).tree.items.length, 90_000);
});

errors("recovery lexes again around what it blanks, also when a quote far before it looked that far", () => {
  // `"csv: b(y ... "v` is no string (a letter follows its closing quote): one invalid token `"csv:`. Blanking
  // from the '(' to the '{' takes that quote away, so the text from the first quote on is one unterminated
  // string now. A lexer resuming at the blank's start, not at the quote, kept `"csv:` and split the rest.
  const { tree, diagnostics } = parseSource('data "csv: b(y fils/train.cs "vblock q(a) {idx:./data/x\n');
  assert.equal(
    diagnostics.map((d) => [d.code, d.span]),
    [
      ["E102", [5, 55]],
      ["E100", [12, 13]],
    ],
  );
  const [data] = tree.items as [Statement];
  assert.equal(
    data.args.map((a) => a.kind),
    ["string"],
  );
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
