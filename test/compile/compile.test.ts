import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { renderLanguageReference } from "../../src/build/reference.ts";
import { ALL_SIGNATURES, usage } from "../../src/build/signatures.ts";
import { check, compile, compileFile, compileIR, jsonErrorOffset, parse } from "../../src/compile.ts";
import { validateIR } from "../../src/ir/validate.ts";
import type { Program } from "../../src/ir/schema.ts";

const specsDir = fileURLToPath(new URL("../../specs/", import.meta.url));
const specs = readdirSync(specsDir)
  .filter((f) => f.endsWith(".nn"))
  .map((f) => ({ file: `specs/${f}`, text: readFileSync(join(specsDir, f), "utf8") }));
const MLP = "input 28x28\nflatten\ndense 128 relu\ndense 64 relu\ndense 10 softmax\n";

const api = suite("compile API");

api("every spec in specs/ compiles to a checked program that validates", () => {
  assert.ok(specs.length >= 5);
  for (const { file, text } of specs) {
    const result = compile(text, { filename: file });
    assert.ok(result.ok, `${file}: ${result.diagnostics.map((d) => d.message).join("; ")}`);
    assert.equal(validateIR(result.program).diagnostics, [], file);
    for (const model of result.program!.models) {
      for (const layer of model.layers) assert.ok(layer.outputShape && layer.params, `${file} ${layer.name}`);
    }
    assert.is(result.program!.source?.file, file);
    assert.match(result.program!.source?.sha256 ?? "", /^[0-9a-f]{64}$/);
  }
});

api("errors: ok false, no program, located diagnostics sorted by position", () => {
  const result = compile("input 28x28\ndense 10\ndence 3\n", { filename: "x.nn" });
  assert.is(result.ok, false);
  assert.is(result.program, undefined);
  assert.equal(
    result.diagnostics.map((d) => [d.code, d.file, d.line, d.column]),
    [
      ["E302", "x.nn", 2, 1],
      ["E200", "x.nn", 3, 1],
    ],
  );
  // Problems of the model and of the train block are reported in one run.
  const both = compile("input 28x28\ndense 10\nbatchnorm\ntrain {\n epochs 0\n}\n");
  assert.equal(
    both.diagnostics.map((d) => d.code),
    ["E302", "E206"],
  );
});

api("strict: warnings become errors", () => {
  const buggy = MLP + "batchnorm\n";
  assert.is(compile(buggy).ok, true);
  const strict = compile(buggy, { strict: true });
  assert.is(strict.ok, false);
  assert.equal(
    strict.diagnostics.map((d) => [d.code, d.severity]),
    [["W401", "error"]],
  );
});

api("parse and check are the phases on their own", () => {
  const { tree, diagnostics } = parse(MLP, { filename: "m.nn" });
  assert.equal(diagnostics, []);
  assert.is(tree.items.length, 5);
  const program = compile(MLP).program!;
  const again = check(program);
  assert.equal(again.diagnostics, []);
  assert.equal(again.program, program);
});

api("syntax errors are reported, and the file is not checked on a guess", () => {
  const result = compile('input 28x28\ndata "unterminated\n');
  assert.is(result.ok, false);
  assert.ok(result.diagnostics.some((d) => d.code.startsWith("E1")));
});

api("the language reference covers every statement", () => {
  const md = renderLanguageReference();
  for (const sig of ALL_SIGNATURES) assert.ok(md.includes(usage(sig)), sig.name);
  assert.match(md, "| `momentum=` | `NUM` | `0.99` |");
});
api.run();

const ir = suite("compileIR: IR JSON as input");

ir("round trip: compile -> JSON -> compileIR gives the same checked program", () => {
  for (const { file, text } of specs) {
    const first = compile(text, { filename: file }).program!;
    const second = compileIR(JSON.stringify(first, null, 2), { filename: "p.json" });
    assert.ok(second.ok, second.diagnostics.map((d) => d.message).join("; "));
    assert.equal(second.program, first, file);
  }
});

ir("shapes and params in the input are recomputed, never trusted", () => {
  const program = compile(MLP).program!;
  const tampered = structuredClone(program);
  tampered.models[0]!.layers[2]!.params = { trainable: 1, nonTrainable: 5 };
  tampered.models[0]!.layers[2]!.outputShape = [null, 3];
  assert.equal(compileIR(JSON.stringify(tampered)).program, program);
});

ir("JSON syntax errors: E004 with a position", () => {
  const result = compileIR('{\n  "irVersion": 1,\n  oops\n}', { filename: "bad.json" });
  assert.is(result.ok, false);
  const [d] = result.diagnostics;
  assert.is(d!.code, "E004");
  assert.equal([d!.file, d!.line], ["bad.json", 3]);
});

ir("JSON syntax errors without 'at position' (Node 20's unexpected token) point at the token", () => {
  const text = '{\n  "irVersion": 1,\n  "models": [1, 2,]\n}\n';
  const [d] = compileIR(text, { filename: "bad.json" }).diagnostics;
  assert.is(d!.code, "E004");
  assert.equal([d!.line, d!.column], [3, 19]);
  assert.is(jsonErrorOffset('{"a": }', 'Unexpected token \'}\', "{"a": }" is not valid JSON'), 6);
  assert.is(jsonErrorOffset('{"a": tru}', "no position here"), 9);
  assert.is(jsonErrorOffset('{"a": [1', "Unexpected end of JSON input"), 8);
  assert.is(jsonErrorOffset('{\n"a" 1}', "Expected ':' (line 2 column 5)"), 6);
});

ir("schema errors name the path (E005); wrong versions E006", () => {
  const program: Program = compile(MLP).program!;
  const bad = structuredClone(program) as unknown as { models: { layers: Record<string, unknown>[] }[] };
  bad.models[0]!.layers[2]!["units"] = "many";
  const result = compileIR(JSON.stringify(bad));
  assert.is(result.ok, false);
  assert.ok(
    result.diagnostics.some((d) => d.code === "E005" && d.message.includes("models.0.layers.2.units")),
    result.diagnostics.map((d) => d.message).join("; "),
  );
  assert.is(compileIR(JSON.stringify({ ...program, irVersion: 99 })).diagnostics[0]!.code, "E006");
});

ir("checker errors in IR input carry no span into the wrong text", () => {
  const program = compile(MLP).program!;
  const bad = structuredClone(program);
  bad.models[0]!.layers.splice(1, 1); // drop the flatten
  bad.models[0]!.layers[1]!.inputs = ["input_layer"];
  const result = compileIR(JSON.stringify(bad), { filename: "p.json" });
  assert.equal(
    result.diagnostics.map((d) => [d.code, d.file, d.span]),
    [["E302", "p.json", undefined]],
  );
});

ir(
  "a graph in IR JSON is checked: inputs name earlier nodes (E312), arity (E313), every node used (E314)",
  () => {
    const program = compile(MLP).program!;
    const edit = (f: (layers: Program["models"][number]["layers"]) => void) => {
      const bad = structuredClone(program);
      f(bad.models[0]!.layers);
      return compileIR(JSON.stringify(bad)).diagnostics.map((d) => [d.code, d.message]);
    };
    assert.equal(
      edit((l) => (l[1]!.inputs = ["nowhere"])),
      [["E312", "node 'flatten' takes 'nowhere' as input, which is no node of model 'model'"]],
    );
    assert.equal(
      edit((l) => (l[1]!.inputs = [l[2]!.name])).map(([c]) => c),
      ["E312"],
    );
    assert.equal(
      edit((l) => (l[1]!.inputs = [])).map(([c]) => c),
      ["E313"],
    );
    assert.equal(
      edit((l) => (l[2]!.inputs = ["input_layer"])),
      [
        [
          "E314",
          "the output of 'flatten' is never used: every node must lead to the model's output ('dense_2', the last node)",
        ],
      ],
    );
  },
);

ir("version-1 IR (a chain of layers without inputs) is read as the chain it was", () => {
  const program = compile(MLP).program!;
  const v1 = structuredClone(program) as unknown as { irVersion: number; models: { layers: object[] }[] };
  v1.irVersion = 1;
  for (const layer of v1.models[0]!.layers) delete (layer as { inputs?: unknown }).inputs;
  const result = compileIR(JSON.stringify(v1));
  assert.ok(result.ok, result.diagnostics.map((d) => d.message).join("; "));
  assert.equal(result.program!.irVersion, 2);
  assert.equal(
    result.program!.models[0]!.layers.map((l) => l.inputs),
    program.models[0]!.layers.map((l) => l.inputs),
  );
});
ir.run();

const schema = suite("schema and types agree");

schema("a built program passes validateIR; a mutated one fails with a useful path", () => {
  const program = compile(specs.find((s) => s.file.endsWith("notebook-study.nn"))!.text).program!;
  assert.equal(validateIR(program).diagnostics, []);
  const mutations: [string, (p: Record<string, any>) => void][] = [
    ["models.0.layers.3.activation", (p) => (p["models"][0].layers[3].activation = "mish")],
    ["train.batch", (p) => (p["train"].batch = 0)],
    ["experiments.0.repeat", (p) => (p["experiments"][0].repeat = 1.5)],
    ["train.optimizer", (p) => (p["train"].optimizer.momentum = 0.9)],
  ];
  for (const [path, mutate] of mutations) {
    const copy = structuredClone(program) as unknown as Record<string, any>;
    mutate(copy);
    const { diagnostics } = validateIR(copy);
    assert.ok(
      diagnostics.some((d) => d.message.includes(path)),
      `${path}: ${diagnostics.map((d) => d.message).join("; ")}`,
    );
  }
});
schema.run();

const files = suite("compileFile");
const dir = mkdtempSync(join(tmpdir(), "nnc-compile-"));

files("reads .nn, dispatches .json to compileIR", async () => {
  writeFileSync(join(dir, "mlp.nn"), MLP);
  const nn = await compileFile(join(dir, "mlp.nn"));
  assert.ok(nn.ok);
  assert.is(nn.program!.models[0]!.name, "mlp");
  writeFileSync(join(dir, "mlp.json"), JSON.stringify(nn.program));
  const json = await compileFile(join(dir, "mlp.json"));
  assert.equal(json.program, nn.program);
});

files("E001 for a missing file, E002 with the byte offset of invalid UTF-8", async () => {
  const missing = await compileFile(join(dir, "nope.nn"));
  assert.equal(
    missing.diagnostics.map((d) => [d.code, d.message]),
    [["E001", `cannot read ${join(dir, "nope.nn")}: no such file`]],
  );
  writeFileSync(join(dir, "bin.nn"), Buffer.from([0x69, 0x6e, 0x70, 0x75, 0x74, 0x20, 0xc3, 0x28, 0x0a]));
  const binary = await compileFile(join(dir, "bin.nn"));
  assert.equal(
    binary.diagnostics.map((d) => [d.code, d.message]),
    [["E002", "this is not a text file (binary data at byte 6); .nn specs are UTF-8 text"]],
  );
  writeFileSync(join(dir, "utf8.nn"), "# café ✓\n" + MLP);
  assert.ok((await compileFile(join(dir, "utf8.nn"))).ok);
  // U+FFFD written as valid UTF-8 (EF BF BD) is text like any other character.
  writeFileSync(join(dir, "fffd.nn"), "# replacement character: \uFFFD\n" + MLP);
  const fffd = await compileFile(join(dir, "fffd.nn"));
  assert.ok(fffd.ok, fffd.diagnostics.map((d) => d.message).join("; "));
  assert.ok(compile("# \uFFFD\n" + MLP).ok);
});
files.run();
