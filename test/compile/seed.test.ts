// Seeds are 32-bit: the PRNG reduces larger ones modulo 2^32, so 2^32 would silently train as seed 0.
// Every way a seed comes in is capped with a message: .nn, IR JSON, experiments' vary lists, the CLI.
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { compile, compileIR } from "../../src/compile.ts";
import { MAX_SEED } from "../../src/ir/schema.ts";

/** A path in this repository, whatever the working directory the tests run from. */
const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

const MLP = "input 4\ndense 2 softmax\n";
const seeds = suite("seeds are capped at 2^32-1");

seeds(".nn: seed 2^32 is E206 with the range; 2^32-1 is fine", () => {
  assert.is(MAX_SEED, 4294967295);
  const [d] = compile(`${MLP}train {\n seed 4294967296\n}`).diagnostics;
  assert.is(d!.code, "E206");
  assert.match(d!.message, "an integer in [0, 4294967295]");
  assert.ok(compile(`${MLP}train {\n seed 4294967295\n}`).ok);
});

seeds("IR JSON: a seed past 2^32-1 fails the schema (E005)", () => {
  const program = compile(MLP).program!;
  const result = compileIR(JSON.stringify({ ...program, train: { ...program.train, seed: 2 ** 32 } }));
  assert.equal(
    result.diagnostics.map((d) => d.code),
    ["E005"],
  );
});

seeds("experiments: vary seed values past 2^32-1 are E307", () => {
  const text = `model a { ${MLP.replace(/\n/g, "; ")} }\nexperiment e { compare a; vary seed 1 4294967296 }`;
  const codes = compile(text).diagnostics.map((d) => d.code);
  assert.ok(codes.includes("E307"), codes.join(" "));
});

seeds("CLI: --seed 4294967296 is a usage error naming the range", async () => {
  const io = memoryIO();
  const code = await run(["train", repo("specs/mnist-bn.nn"), "--seed", "4294967296"], io);
  assert.is(code, 2);
  assert.match(io.stderr(), "an integer from 0 to 4294967295");
});
seeds.run();
