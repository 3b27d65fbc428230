// The phase boundaries hold: the front end never loads TensorFlow.js, and the back end never sees syntax
// (the IR is its only input). Checked by scanning import statements, so a stray import fails here.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}
const importsOf = (file: string): string[] =>
  [
    ...readFileSync(file, "utf8").matchAll(
      /(?:^|\n)\s*(?:import|export)[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)/g,
    ),
  ].map((m) => (m[1] ?? m[2])!);

const FRONT = [
  "src/parse",
  "src/build",
  "src/check",
  "src/ir",
  "src/diagnostics",
  "src/data",
  "src/util",
  "src/format",
];
const BACK = ["src/lower", "src/train", "src/save", "src/runtime"];

const phases = suite("phase boundaries");

phases("the front end and the data layer never import TensorFlow.js", () => {
  const files = [...FRONT.flatMap(sources), "src/compile.ts"];
  assert.ok(files.length > 20, "found the front-end sources");
  for (const file of files) {
    for (const spec of importsOf(file)) assert.not.match(spec, /@tensorflow/, `${file} imports ${spec}`);
  }
});

phases("the back end never imports the parser, the syntax tree or the IR builder", () => {
  const files = BACK.flatMap(sources);
  assert.ok(files.length > 10, "found the back-end sources");
  for (const file of files) {
    for (const spec of importsOf(file)) {
      assert.not.match(spec, /(^|\/)(parse|build|format)\//, `${file} imports ${spec}`);
    }
  }
});

phases("the scanner sees imports (so the checks above can fail)", () => {
  assert.ok(importsOf("src/lower/network.ts").some((s) => s.startsWith("@tensorflow/")));
});

phases.run();
