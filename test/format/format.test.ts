// The formatter: golden before/after cases (test/fixtures/format/<case>/{input.nn,expected.nn}), idempotence
// on every fixture and spec, no comment or token ever lost, and syntax errors reported rather than crashing.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as prettier from "prettier";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { FormatError, formatSource, nnPlugin } from "../../src/format/index.ts";
import { parseSource } from "../../src/parse/parse.ts";
import { caseNames, fixturesDir, golden, readCase } from "../parse/helpers.ts";

/** Every non-space character but ';' (which the formatter turns into newlines), in order. */
const tokens = (text: string) => text.replace(/[\s;]/g, "");
const comments = (text: string) => {
  const found: string[] = [];
  const walk = (items: ReturnType<typeof parseSource>["tree"]["items"]) => {
    for (const item of items) {
      if (item.kind === "comment") found.push(item.text.trimEnd());
      else {
        if (item.kind === "block") {
          if (item.headerComment) found.push(item.headerComment.text.trimEnd());
          walk(item.items);
        }
        if (item.trailingComment) found.push(item.trailingComment.text.trimEnd());
      }
    }
  };
  walk(parseSource(text).tree.items);
  return found;
};

const specsDir = new URL("../../specs/", import.meta.url).pathname;
const specFiles = (() => {
  try {
    return readdirSync(specsDir).filter((f) => f.endsWith(".nn"));
  } catch {
    return [];
  }
})();

/** Every good input we have: format fixtures, parse fixtures without errors, and the specs folder. */
const corpus: Array<[string, string]> = [
  ...caseNames("format").map((n): [string, string] => [`format/${n}`, readCase("format", n)]),
  ...caseNames("parse")
    .filter((n) => n.startsWith("ok-"))
    .map((n): [string, string] => [`parse/${n}`, readCase("parse", n)]),
  ...specFiles.map((f): [string, string] => [`specs/${f}`, readFileSync(join(specsDir, f), "utf8")]),
];

const goldens = suite("format: golden cases");
for (const name of caseNames("format")) {
  goldens(name, async () => {
    const actual = await formatSource(readCase("format", name));
    assert.fixture(actual, golden(join(fixturesDir("format"), name, "expected.nn"), actual));
  });
}

const properties = suite("format: properties");

properties("idempotent, token- and comment-preserving on every fixture and spec", async () => {
  assert.ok(corpus.length >= 10, `corpus of ${corpus.length}`);
  for (const [name, text] of corpus) {
    const once = await formatSource(text);
    assert.is(await formatSource(once), once, `${name}: not idempotent`);
    assert.is(tokens(once), tokens(text), `${name}: tokens changed`);
    assert.equal(comments(once), comments(text), `${name}: comments changed`);
    assert.equal(parseSource(once).diagnostics, [], `${name}: output does not parse`);
    if (once !== "") assert.ok(once.endsWith("\n") && !once.endsWith("\n\n"), `${name}: file end`);
    assert.not.match(once, /\n\n\n/, `${name}: two blank lines in a row`);
    assert.not.match(once, /\{\n\n|\n\n *\}/, `${name}: blank line inside braces`);
  }
});

properties("the specs are already formatted", async () => {
  for (const f of specFiles) {
    const text = readFileSync(join(specsDir, f), "utf8");
    assert.is(await formatSource(text), text, f);
  }
});

properties(
  "nested blocks: one item per line, two spaces a level; a parameter list attaches to its name",
  async () => {
    assert.is(
      await formatSource("repeat 2 { residual { basic 16 }; relu }"),
      "repeat 2 {\n  residual {\n    basic 16\n  }\n  relu\n}\n",
    );
    assert.is(await formatSource("block  b ( x ,y= 1 ){}"), "block b(x, y=1) {}\n");
    assert.is(
      await formatSource('block b(s="a,(b)" , n=-1) { relu }'),
      'block b(s="a,(b)", n=-1) {\n  relu\n}\n',
    );
    // Graph constructs among a file's bare layers are layers: no blank lines forced around them.
    assert.is(
      await formatSource("dense 8\nresidual { relu }\ndense 2"),
      "dense 8\nresidual {\n  relu\n}\ndense 2\n",
    );
    const deep = "a {".repeat(64) + "relu" + "}".repeat(64);
    const once = await formatSource(deep);
    assert.ok(once.includes(`\n${"  ".repeat(64)}relu\n`));
    assert.is(await formatSource(once), once);
  },
);

properties("a syntax error yields a FormatError with diagnostics pointing into the input", async () => {
  const text = "input 28x28\r\ndense 1.2.3\r\noptimizer adam lr=\r\n";
  try {
    await formatSource(text, { filepath: "x.nn" });
    assert.unreachable("formatted a file with syntax errors");
  } catch (e) {
    assert.instance(e, FormatError);
    const diags = (e as FormatError).diagnostics;
    assert.equal(
      diags.map((d) => d.code),
      ["E101", "E100"],
    );
    assert.is(text.slice(diags[0]!.span![0], diags[0]!.span![1]), "1.2.3");
  }
});

properties("the plugin works through prettier.format by file name", async () => {
  const out = await prettier.format("dense 10;relu", { filepath: "a.nn", plugins: [nnPlugin] });
  assert.is(out, "dense 10\nrelu\n");
});

goldens.run();
properties.run();
