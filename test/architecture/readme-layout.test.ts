// README's "How it is built" table names every folder under src/, so a reader finds each phase from there.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const root = fileURLToPath(new URL("../../", import.meta.url));
const layout = suite("README layout table");

layout("every src/ folder is in the table", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const folders = readdirSync(join(root, "src")).filter((d) => statSync(join(root, "src", d)).isDirectory());
  assert.ok(folders.length >= 10);
  const missing = folders.filter((d) => !readme.includes(`\`src/${d}/\``));
  assert.equal(missing, []);
});
layout.run();
