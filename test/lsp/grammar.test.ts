// The VS Code extension's TextMate grammar, run by vscode-textmate + vscode-oniguruma as VS Code runs it: the
// scopes of tokens on sample lines, every op and setting of the signature table highlighted, and the grammar
// file what scripts/gen-vscode-grammar.ts generates from that table now.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { GRAMMAR_FILE, grammarText } from "../../scripts/gen-vscode-grammar.ts";
import { loadNnGrammar, scopeOf, tokenize } from "../../scripts/nn-highlight.ts";
import { ALL_SIGNATURES } from "../../src/build/signatures.ts";
import { ACTIVATIONS } from "../../src/ir/common.ts";

const grammar = suite("VS Code grammar");
const loaded = loadNnGrammar();

/** The scope of each non-blank token of one line, as "text:scope". */
async function scopes(text: string): Promise<string[][]> {
  return tokenize(await loaded, text).map((line) =>
    line.filter((t) => t.text.trim() !== "").map((t) => `${t.text.trim()}:${scopeOf(t)}`),
  );
}

grammar(
  "the grammar file is generated from the signature table (regenerate: npx tsx scripts/gen-docs.ts)",
  async () => {
    assert.is(readFileSync(GRAMMAR_FILE, "utf8"), await grammarText());
  },
);

grammar("a layer line: op, number, activation, option, boolean, comment", async () => {
  assert.equal(await scopes("  dense 128 relu bias=false  # hidden"), [
    [
      "dense:support.function.layer.nn",
      "128:constant.numeric.nn",
      "relu:support.function.activation.nn",
      "bias:variable.parameter.option.nn",
      "=:keyword.operator.assignment.nn",
      "false:constant.language.boolean.nn",
      "# hidden:comment.line.number-sign.nn",
    ],
  ]);
  assert.equal((await scopes("conv2d 32 3x3 padding=same"))[0]!.slice(0, 3), [
    "conv2d:support.function.layer.nn",
    "32:constant.numeric.nn",
    "3x3:constant.numeric.shape.nn",
  ]);
});

grammar("block headers, names and statements after ; and {", async () => {
  const lines = await scopes(
    'model bn { input 784; relu }\nblock basic(filters, stride=1) {\ntrain {\n  data "csv:my data.csv"\n}\nexperiment e {\n  repeat 3\n}\nrepeat 2 {',
  );
  assert.equal(lines[0], [
    "model:keyword.control.block.nn",
    "bn:entity.name.type.nn",
    "{:punctuation.section.block.begin.nn",
    "input:support.function.layer.nn",
    "784:constant.numeric.nn",
    ";:punctuation.separator.statement.nn",
    "relu:support.function.activation.nn",
    "}:punctuation.section.block.end.nn",
  ]);
  assert.equal(lines[1]!.slice(0, 2), ["block:keyword.control.block.nn", "basic:entity.name.function.nn"]);
  assert.equal(lines[2]![0], "train:keyword.control.block.nn");
  assert.equal(lines[3]![0], "data:keyword.other.setting.nn");
  assert.ok(
    lines[3]!.slice(1).every((t) => t.endsWith(":string.quoted.double.nn")),
    lines[3]!.join(" "),
  );
  assert.equal(
    lines[6],
    ["repeat:keyword.other.setting.nn", "3:constant.numeric.nn"],
    "an experiment's repeat is a setting",
  );
  assert.equal(lines[8]![0], "repeat:keyword.control.block.nn", "a model's repeat N { is a block");
});

grammar("every statement of the signature table is highlighted at the start of a line", async () => {
  const activations = ACTIVATIONS as readonly string[];
  for (const sig of ALL_SIGNATURES) {
    const [first] = (await scopes(`  ${sig.name} 1`))[0]!;
    const expected =
      sig.context !== "layer"
        ? "keyword.other.setting.nn"
        : activations.includes(sig.name)
          ? "support.function.activation.nn"
          : "support.function.layer.nn";
    assert.is(first, `${sig.name}:${expected}`);
  }
  // A word that is no statement stays plain (a block use), and an op inside a word is not highlighted.
  assert.equal((await scopes("basic 16"))[0]![0], "basic:");
  assert.equal((await scopes("dense_block 16"))[0]![0], "dense_block:");
});

grammar.run();
