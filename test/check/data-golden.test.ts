// Golden diagnostics of the checks against data: every case under test/fixtures/check-data/<case>/input.nn is
// compiled, checked against its data (the embedded mnist: present wherever nnc is installed) as `nnc check`
// does, and its rendered diagnostics compared with expected.txt (regenerate with UPDATE_GOLDEN=1, then read
// the diff). The case is named after the code it shows.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkData } from "../../src/check/data-fit.ts";
import { compile } from "../../src/compile.ts";
import {
  hasErrors,
  renderDiagnostics,
  sortDiagnostics,
  SourceText,
  summarize,
} from "../../src/diagnostics/index.ts";

const fixtures = fileURLToPath(new URL("../fixtures/check-data/", import.meta.url));
const update = process.env["UPDATE_GOLDEN"] === "1";

/** What `nnc check` prints for the file: its compile diagnostics and those against its data, then the status. */
async function renderCase(text: string, file: string, dir: string): Promise<string> {
  const result = compile(text, { filename: file });
  const source = new SourceText(file, text);
  const data = result.program ? await checkData(result.program, { baseDir: dir }) : [];
  const all = sortDiagnostics([...result.diagnostics, ...source.locate(data.map((d) => ({ ...d, file })))]);
  const rendered = renderDiagnostics(all, new Map([[file, source]]));
  return `${rendered}${rendered ? "\n\n" : ""}${hasErrors(all) ? "failed" : "ok"}${
    all.length ? ` (${summarize(all)})` : ""
  }\n`;
}

const golden = suite("golden diagnostics: check against data");
for (const name of readdirSync(fixtures).sort()) {
  golden(name, async () => {
    const dir = join(fixtures, name);
    const actual = await renderCase(readFileSync(join(dir, "input.nn"), "utf8"), `${name}.nn`, dir);
    const expectedPath = join(dir, "expected.txt");
    if (update || !existsSync(expectedPath)) writeFileSync(expectedPath, actual);
    assert.fixture(actual, readFileSync(expectedPath, "utf8"));
    const code = /^([ew]\d{3})-/.exec(name)?.[1]?.toUpperCase();
    if (code) assert.ok(actual.includes(`[${code}]`), `${name} does not show ${code}`);
  });
}
golden.run();
