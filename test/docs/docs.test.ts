// Generated documentation is current: the language reference is rendered from the compiler's own table.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { LANGUAGE_DOC, README, languageDoc } from "../../scripts/gen-docs.ts";
import { withOpTable } from "../../src/build/op-table.ts";
import { OPS } from "../../src/ops/index.ts";
import { ALL_SIGNATURES } from "../../src/build/signatures.ts";

const docs = suite("docs");

docs("docs/language.md is up to date (npx tsx scripts/gen-docs.ts)", () => {
  assert.fixture(readFileSync(LANGUAGE_DOC, "utf8"), languageDoc());
});

docs("every op the compiler knows is documented", () => {
  const text = readFileSync(LANGUAGE_DOC, "utf8");
  for (const { name } of ALL_SIGNATURES) assert.ok(text.includes(`\`${name}\``), name);
});

docs("README.md's op table is up to date and lists every statement of every registered op", async () => {
  const readme = readFileSync(README, "utf8");
  assert.fixture(readme, await withOpTable(readme, fileURLToPath(README)));
  for (const op of OPS) for (const sig of op.signatures) assert.match(readme, `| \`${sig.name}`, sig.name);
});

docs.run();
