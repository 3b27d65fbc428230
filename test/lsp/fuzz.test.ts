// The language server never falls over: a sample of bench/fuzz-specs.ts's mutated specs (tokens deleted,
// duplicated and swapped, random bytes, deep nesting, huge numbers, ...) goes through it, each opened and asked
// for everything (symbols, inlay hints, code actions, formatting, and hover, completion and definition at
// random places). No request may fail and nothing may be logged as an internal error (E700). The whole corpus,
// 1 MiB runs included, is bench/lsp.ts's.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mutants, specSeeds } from "../../bench/fuzz-specs.ts";
import { Random } from "../../src/util/random.ts";
import { inProcess, uriOf } from "./client.ts";

const SAMPLE = 120;
const fuzz = suite("language server on mutated specs");

fuzz(`${SAMPLE} mutants: every request answers, nothing crashes`, async () => {
  const client = inProcess({ debounceMs: 0 });
  await client.initialize();
  const rng = new Random(15);
  const failures: string[] = [];
  try {
    for (const input of mutants(specSeeds(), SAMPLE, rng)) {
      const text = input.bytes.toString("utf8");
      const uri = uriOf(`/tmp/nnc-lsp-fuzz/${input.name}.nn`);
      const diags = await client.open(uri, text);
      if (diags.some((d) => d.code === "E700")) failures.push(`${input.name} (${input.how}): E700`);
      const lines = text.split("\n");
      const end = { line: lines.length - 1, character: lines.at(-1)!.length };
      const whole = { start: { line: 0, character: 0 }, end };
      const requests: Promise<unknown>[] = [
        client.symbols(uri),
        client.inlayHints(uri, whole),
        client.codeActions(uri, whole, diags),
        client.formatting(uri),
      ];
      for (let k = 0; k < 4; k++) {
        const line = rng.int(lines.length);
        const position = { line, character: rng.int(lines[line]!.length + 1) };
        requests.push(
          client.hover(uri, position),
          client.completion(uri, position),
          client.definition(uri, position),
        );
      }
      const settled = await Promise.allSettled(requests);
      for (const s of settled)
        if (s.status === "rejected") failures.push(`${input.name} (${input.how}): ${String(s.reason)}`);
      await client.close(uri);
    }
    const logged = client.logs.filter((l) => l.startsWith("nnc lsp:"));
    assert.equal(failures, []);
    assert.equal(logged, []);
  } finally {
    await client.stop();
  }
});

fuzz.run();
