import { readdirSync, readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const Imports = suite("data layer imports");

Imports("no module under src/data imports tfjs (the trainer owns tensors)", () => {
  const dir = new URL("../../src/data/", import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length >= 5, "found the data modules");
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), "utf8");
    assert.not.match(text, /from\s+["']@tensorflow\//, `${file} imports tfjs`);
  }
});

Imports.run();
