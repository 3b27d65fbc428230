// Fuzzing the front end: thousands of seeded mutations of valid specs through compile(). Whatever the text,
// compile() never throws and either gives a program that validates against the schema or at least one error.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ALL_SIGNATURES } from "../../src/build/signatures.ts";
import { compile } from "../../src/compile.ts";
import { validateIR } from "../../src/ir/validate.ts";
import { Random } from "../../src/util/random.ts";

const specsDir = fileURLToPath(new URL("../../specs/", import.meta.url));
const seeds = readdirSync(specsDir)
  .filter((f) => f.endsWith(".nn"))
  .map((f) => readFileSync(join(specsDir, f), "utf8"));

// Tokens a mutation may insert: every statement and option name, block syntax, odd values.
const vocabulary = [
  ...ALL_SIGNATURES.flatMap((s) => [s.name, ...s.options.map((o) => `${o.name}=`)]),
  "model m {",
  "residual {",
  "shortcut {",
  "repeat 2 {",
  "block b(n, s=1) {",
  "b 4",
  "basic 8 stride=2",
  "name=x",
  "add x",
  "concat x axis=1",
  "(",
  ")",
  ",",
  "train {",
  "experiment x {",
  "{",
  "}",
  "=",
  ";",
  "\n",
  '"',
  "#",
  "0",
  "-1",
  "1e400",
  "0.5",
  "3x3",
  "28x28x1",
  "0x0",
  "1.2.3",
  "true",
  "nan",
  "\u00e9",
  "\t",
];

function mutate(text: string, rng: Random): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(6)) {
    case 0: // delete a run of characters
      return text.slice(0, at) + text.slice(at + 1 + rng.int(8));
    case 1: // insert a token
      return text.slice(0, at) + " " + vocabulary[rng.int(vocabulary.length)]! + " " + text.slice(at);
    case 2: {
      // swap two lines
      const lines = text.split("\n");
      const i = rng.int(lines.length);
      const j = rng.int(lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join("\n");
    }
    case 3: // replace a number with another
      return text.replace(/\d+(\.\d+)?/g, (m) =>
        rng.next() < 0.2 ? String(rng.int(2000) / (rng.int(3) ? 1 : 100)) : m,
      );
    case 4: {
      // duplicate a line
      const lines = text.split("\n");
      const i = rng.int(lines.length);
      lines.splice(i, 0, lines[i]!);
      return lines.join("\n");
    }
    default: // insert a random printable character
      return text.slice(0, at) + String.fromCharCode(32 + rng.int(95)) + text.slice(at);
  }
}

const fuzz = suite("fuzz: compile() on mutated specs");

/** Mutates seeds `runs` times through compile(): never throws; a program that validates, or an error. */
function fuzzCompile(seedTexts: string[], seed: number, runs: number): void {
  const rng = new Random(seed);
  let programs = 0;
  for (let i = 0; i < runs; i++) {
    let text = seedTexts[rng.int(seedTexts.length)]!;
    const steps = 1 + rng.int(4);
    for (let s = 0; s < steps; s++) text = mutate(text, rng);
    let result;
    try {
      result = compile(text, { filename: "fuzz.nn" });
    } catch (e) {
      assert.unreachable(`compile threw on case ${i}: ${(e as Error).stack}\n--- input ---\n${text}`);
      return;
    }
    if (result.ok) {
      programs++;
      assert.ok(result.program, `case ${i}: ok without a program`);
      assert.equal(validateIR(result.program).diagnostics, [], `case ${i}`);
    } else {
      assert.ok(
        result.diagnostics.some((d) => d.severity === "error"),
        `case ${i}: not ok but no error\n${text}`,
      );
    }
  }
  // The mutations must leave some specs valid, or the test only exercises error paths.
  assert.ok(programs > runs / 20 && programs < runs, `${programs} of ${runs} compiled`);
}

fuzz("never throws; a program that validates or an error", () => fuzzCompile(seeds, 20240611, 4000));

fuzz("graph specs (blocks, residuals, repeats, add, concat): never throws either", () => {
  const graphs = seeds.filter((text) => /\b(residual|block|repeat)\b/.test(text));
  assert.ok(graphs.length >= 2, "specs/ holds graph specs");
  fuzzCompile(graphs, 20261204, 600);
});
const floods = suite("fuzz: floods of errors and megabyte inputs");

floods("building reports at most 100 errors, then E226, and stops (no program)", () => {
  // 300 unknown ops: each an E200 once, with a did-you-mean, for as long as the file went on.
  const result = compile("a\n".repeat(300), { filename: "flood.nn" });
  assert.not.ok(result.ok);
  const codes = result.diagnostics.map((d) => d.code);
  assert.equal(codes.slice(0, 100), Array(100).fill("E200"));
  assert.equal(codes.slice(100), ["E226"]);
  const stop = result.diagnostics[100]!;
  assert.is(stop.message, "too many errors: stopped after 100; fix these and run again");
  // Positioned where the 101st error was: line 101.
  assert.is(stop.line, 101);
  // 100 errors or fewer: all of them, no E226.
  assert.equal(
    compile("a\n".repeat(100), { filename: "flood.nn" }).diagnostics.map((d) => d.code),
    Array(100).fill("E200"),
  );
});

floods("1 MiB of one token or pattern through compile(): never throws, a bounded list of errors", () => {
  // Time and memory are the business of npm run bench:fuzz-specs; here: it ends, with few diagnostics.
  const model = (body: string) => `model m {\n input 28x28\n flatten\n${body}\n dense 10 softmax\n}\n`;
  const MiB = 1 << 20;
  const run = (unit: string) => unit.repeat(Math.ceil(MiB / unit.length));
  const cases: Array<[string, string]> = [
    ["newlines", run("\n")],
    ["'}'", run("}")],
    ["'}' in a model", model(run("}"))],
    ["unknown ops", run("a\n")],
    ["unknown ops in a model", model(run("a;"))],
    ["dense layers past the layer bound", model(run("dense 1;"))],
    ["'{'", run("{")],
    ["'=' lines", run("=\n")],
    ["not strings", run('"a"b ')],
    ["block definitions", run("block b(x) { relu }\n")],
  ];
  for (const [name, text] of cases) {
    let result;
    try {
      result = compile(text, { filename: "big.nn" });
    } catch (e) {
      assert.unreachable(`compile threw on ${name}: ${(e as Error).stack}`);
      return;
    }
    assert.not.ok(result.ok, name);
    assert.ok(result.diagnostics.length <= 160, `${name}: ${result.diagnostics.length} diagnostics`);
  }
});

fuzz.run();
floods.run();
