// Golden diagnostics: every case under test/fixtures/build|check/<case>/input.nn is compiled and its rendered
// diagnostics compared with expected.txt (regenerate with UPDATE_GOLDEN=1, then read the diff).
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { renderDiagnostics, SourceText, summarize } from "../../src/diagnostics/index.ts";

const fixtures = fileURLToPath(new URL("../fixtures/", import.meta.url));
const update = process.env["UPDATE_GOLDEN"] === "1";

/** What `nnc check` would print for a file, plus the status line. */
export function renderCase(text: string, file: string, strict = false): string {
  const result = compile(text, { filename: file, strict });
  const rendered = renderDiagnostics(result.diagnostics, new Map([[file, new SourceText(file, text)]]));
  return `${rendered}${rendered ? "\n\n" : ""}${result.ok ? "ok" : "failed"}${
    result.diagnostics.length ? ` (${summarize(result.diagnostics)})` : ""
  }\n`;
}

for (const area of ["build", "check"]) {
  const golden = suite(`golden diagnostics: ${area}`);
  const dir = join(fixtures, area);
  for (const name of readdirSync(dir).sort()) {
    golden(name, () => {
      const text = readFileSync(join(dir, name, "input.nn"), "utf8");
      const actual = renderCase(text, `${name}.nn`);
      const expectedPath = join(dir, name, "expected.txt");
      if (update || !existsSync(expectedPath)) writeFileSync(expectedPath, actual);
      assert.fixture(actual, readFileSync(expectedPath, "utf8"));
      // The case is named after the code it shows: make sure it does.
      const code = /^([ew]\d{3})-/.exec(name)?.[1]?.toUpperCase();
      if (code) assert.ok(actual.includes(`[${code}]`), `${name} does not show ${code}`);
    });
  }
  golden.run();
}
