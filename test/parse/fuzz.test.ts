// Fuzzing the parser: thousands of seeded random mutations of realistic specs (deleted, duplicated, swapped
// characters, inserted separators, quotes, braces, parentheses and commas, nested blocks, control bytes,
// truncation). parseSource must never throw,
// must always return a tree, and every diagnostic must have a code and a span inside the text. Also checks that
// formatting any mutant that parses cleanly is idempotent.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { formatSource } from "../../src/format/index.ts";
import { parseSource } from "../../src/parse/parse.ts";
import type { Item } from "../../src/parse/syntax-tree.ts";
import { Random } from "../../src/util/random.ts";

export const seedSpecs = [
  "input 28x28; flatten; dense 128 relu; dense 64 relu; dense 10 softmax",
  "# BN variant\ninput 28x28\nflatten\ndense 128\nbatchnorm momentum=0.99 epsilon=1e-3 center=true\nrelu\ndense 10 softmax\n",
  "input 28x28x1\nconv2d 32 3x3 relu stride=2 padding=same\nmaxpool 2x2\nflatten\ndropout 0.25\ndense 10 softmax\n",
  'model baseline {  # plain\n  input 28x28\n  dense 10 softmax\n}\n\ntrain {\n  data idx:./data/mnist validation=0.1\n  data "csv:my files/train.csv"\n  optimizer adam lr=0.001\n}\nexperiment sweep { compare baseline bn; vary batch 32 128 512; lr_scale linear ref=32 }\n',
  "block basic(filters, stride=1) {  # two convs\n  conv2d filters 3x3 stride=stride padding=same bias=false\n  batchnorm; relu\n}\nmodel resnet {\n  input 28x28x1\n  repeat 2 { residual { basic 16 }; relu }\n  residual { basic 32 stride=2; shortcut { conv2d 32 1x1 stride=2; batchnorm } }  # down\n  dense 10 softmax\n}\n",
  'input 28x28x1\nresidual {\n  conv2d 8 3x3 padding=same\n  # inner\n  repeat 3 { relu }\n}\nblock b() { relu }\nblock c(x, y="a,(b)") { add x y; concat x y axis=-1 }\n',
];

const INSERTS = [
  "{",
  "}",
  "=",
  "#",
  '"',
  ";",
  "\n",
  "\r\n",
  "\0",
  "x",
  "1",
  ".",
  "-",
  " ",
  "\t",
  "\uFEFF",
  "é",
  "model m {",
  "(",
  ")",
  ",",
  "(3,3)",
  "b(x, y=1)",
  "residual {",
  "repeat 2 {",
  "{ a {",
];

function mutate(text: string, rng: Random): string {
  let out = text;
  const steps = 1 + rng.int(4);
  for (let s = 0; s < steps; s++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(6)) {
      case 0: // delete a run
        out = out.slice(0, at) + out.slice(at + 1 + rng.int(3));
        break;
      case 1: // duplicate a run
        out = out.slice(0, at) + out.slice(at, at + 1 + rng.int(8)) + out.slice(at);
        break;
      case 2: {
        // swap two characters
        const other = rng.int(out.length + 1);
        const chars = [...out];
        if (at < chars.length && other < chars.length)
          [chars[at], chars[other]] = [chars[other]!, chars[at]!];
        out = chars.join("");
        break;
      }
      case 3:
      case 4: // insert a character that means something to the grammar
        out = out.slice(0, at) + INSERTS[rng.int(INSERTS.length)]! + out.slice(at);
        break;
      default: // truncate
        out = out.slice(0, at);
    }
  }
  return out;
}

function checkTree(items: Item[], length: number): void {
  for (const item of items) {
    assert.ok(item.span[0] >= 0 && item.span[0] <= item.span[1] && item.span[1] <= length, "span in range");
    if (item.kind === "block") checkTree(item.items, length);
  }
}

const fuzz = suite("parse: fuzz");

fuzz("parseSource never throws on thousands of mutated specs and always returns a tree", async () => {
  const rng = new Random(20240611).fork("parse-fuzz");
  let withErrors = 0;
  let clean = 0;
  const formattable: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const text = mutate(seedSpecs[i % seedSpecs.length]!, rng);
    let result: ReturnType<typeof parseSource>;
    try {
      result = parseSource(text, "fuzz.nn");
    } catch (e) {
      throw new Error(`parseSource threw on ${JSON.stringify(text)}: ${(e as Error).stack}`);
    }
    assert.is(result.tree.kind, "file");
    checkTree(result.tree.items, text.length);
    for (const d of result.diagnostics) {
      assert.ok(d.code && d.message, "diagnostic has a code and message");
      if (d.span) assert.ok(d.span[0] >= 0 && d.span[1] <= text.length, `span of ${d.code} in range`);
    }
    if (result.diagnostics.length > 0) withErrors++;
    else {
      clean++;
      if (formattable.length < 300) formattable.push(text);
    }
  }
  // The mutations must actually exercise both paths.
  assert.ok(withErrors > 500 && clean > 100, `${withErrors} with errors, ${clean} clean`);
  for (const text of formattable) {
    const once = await formatSource(text);
    assert.is(await formatSource(once), once, `not idempotent on ${JSON.stringify(text)}`);
    assert.is(
      once.replace(/[\s;]/g, ""),
      text.replace(/[\s;]/g, ""),
      `tokens changed on ${JSON.stringify(text)}`,
    );
  }
});

fuzz.run();
