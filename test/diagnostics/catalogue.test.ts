// The catalogue holds only codes nnc reports: a code no source file uses is dead (retire it with a comment,
// never reuse it). And the catalogue is formatted like every other source (prettier --check).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { catalogue } from "../../src/diagnostics/catalogue.ts";

const src = fileURLToPath(new URL("../../src/", import.meta.url));
const catalogueFile = join(src, "diagnostics", "catalogue.ts");
const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });

const codes = suite("diagnostic catalogue");

codes("every code is reported somewhere in src/", () => {
  const text = sources(src)
    .filter((f) => f !== catalogueFile)
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
  const unused = Object.keys(catalogue).filter((code) => !text.includes(`"${code}"`));
  assert.equal(unused, []);
});

codes("catalogue.ts is formatted (prettier --check)", async () => {
  const text = readFileSync(catalogueFile, "utf8");
  const options = await prettier.resolveConfig(catalogueFile);
  assert.ok(await prettier.check(text, { ...options, filepath: catalogueFile }));
});
codes.run();
