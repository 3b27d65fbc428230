// Generated documentation is current: the language reference is rendered from the compiler's own table.
import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { LANGUAGE_DOC, languageDoc } from "../../scripts/gen-docs.ts";
import { ALL_SIGNATURES } from "../../src/build/signatures.ts";

const docs = suite("docs");

docs("docs/language.md is up to date (npx tsx scripts/gen-docs.ts)", () => {
  assert.fixture(readFileSync(LANGUAGE_DOC, "utf8"), languageDoc());
});

docs("every op the compiler knows is documented", () => {
  const text = readFileSync(LANGUAGE_DOC, "utf8");
  for (const { name } of ALL_SIGNATURES) assert.ok(text.includes(`\`${name}\``), name);
});

docs.run();
