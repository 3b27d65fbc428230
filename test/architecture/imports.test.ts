// The phase boundaries hold: the front end never loads TensorFlow.js, and the back end never sees syntax
// (the IR is its only input). Checked by scanning import statements, so a stray import fails here.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const root = fileURLToPath(new URL("../../", import.meta.url));
function sources(dir: string): string[] {
  const path = join(root, dir);
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .flatMap((name) => sources(join(dir, name)))
    .filter((f) => f.endsWith(".ts"));
}
/** Every module a file imports: `import x from "m"`, `export ... from "m"`, `import "m"`, `import("m")`. */
const importsOf = (text: string): string[] =>
  [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^;"']*?from\s+["']([^"']+)["']|(?:^|\n)\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g,
    ),
  ].map((m) => (m[1] ?? m[2] ?? m[3])!);

/**
 * The modules a file loads when it runs: its imports but those that are wholly `import type` (TypeScript erases
 * them). An activation module (src/ops/activations/) types the tf namespace its back end hands it that way.
 */
const loadedImportsOf = (text: string): string[] =>
  importsOf(text.replace(/(^|\n)\s*import\s+type\s[^;"']*?from\s+["'][^"']+["'];?/g, "$1"));

/** The files a file reaches through relative imports, itself included. */
function reachable(start: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...start];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      if (existsSync(target) && target.endsWith(".ts")) todo.push(target);
    }
  }
  return seen;
}

const FRONT = [
  "src/parse",
  "src/build",
  "src/check",
  "src/ir",
  "src/ops",
  "src/diagnostics",
  "src/data",
  "src/util",
  "src/format",
  "src/compile.ts",
  // The commands that must start without loading TensorFlow.js (hundreds of ms).
  "src/cli/commands/check.ts",
  "src/cli/commands/summary.ts",
  "src/cli/commands/compile.ts",
  "src/cli/commands/fmt.ts",
  // The language server answers keystrokes: the front end only.
  "src/lsp",
  "src/cli/commands/lsp.ts",
];
const BACK = ["src/lower", "src/kernels", "src/train", "src/save", "src/runtime"];

const phases = suite("phase boundaries");

phases(
  "the front end, the data layer and the front commands never load TensorFlow.js, even indirectly",
  () => {
    const files = reachable(FRONT.flatMap(sources));
    assert.ok(files.size > 20, "found the front-end sources");
    for (const file of files) {
      for (const spec of loadedImportsOf(readFileSync(file, "utf8"))) {
        assert.not.match(spec, /@tensorflow/, `${relative(root, file)} imports ${spec}`);
      }
    }
  },
);

phases("the back end never imports the parser, the syntax tree or the IR builder", () => {
  const files = BACK.flatMap(sources);
  assert.ok(files.length > 10, "found the back-end sources");
  for (const file of files) {
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      assert.not.match(spec, /(^|\/)(parse|build|format)\//, `${relative(root, file)} imports ${spec}`);
    }
  }
});

phases("lowering and training never import the checker: the checked IR is their whole input", () => {
  const files = ["src/lower", "src/kernels", "src/train"].flatMap(sources);
  assert.ok(files.length > 10, "found the lowering and training sources");
  for (const file of files) {
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      assert.not.match(spec, /(^|\/)check\//, `${relative(root, file)} imports ${spec}`);
    }
  }
});

phases("the checker and the IR never import the training phase (shared numbers live in src/ir)", () => {
  const files = ["src/check", "src/ir"].flatMap(sources);
  assert.ok(files.length > 10, "found the checker and IR sources");
  for (const file of files) {
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      assert.not.match(spec, /(^|\/)train\//, `${relative(root, file)} imports ${spec}`);
    }
  }
});

phases("the scanner sees every form of import (so the checks above can fail)", () => {
  assert.ok(
    importsOf(readFileSync(join(root, "src/lower/network.ts"), "utf8")).some((s) =>
      s.startsWith("@tensorflow/"),
    ),
  );
  assert.equal(
    importsOf(
      'import "@tensorflow/tfjs-backend-wasm";\nimport x from "./a.ts";\nexport { y } from "./b.ts";\n' +
        'import {\n  z,\n} from "./c.ts";\nconst m = await import("./d.ts");',
    ),
    ["@tensorflow/tfjs-backend-wasm", "./a.ts", "./b.ts", "./c.ts", "./d.ts"],
  );
  // A type-only import loads nothing; an import of types and values, or of a type among values, loads the module.
  assert.equal(
    loadedImportsOf(
      'import type * as tfc from "@tensorflow/tfjs-core";\nimport type {\n  T,\n} from "@tensorflow/a";\n' +
        'import { type U, v } from "@tensorflow/b";\nimport * as tf from "@tensorflow/c";',
    ),
    ["@tensorflow/b", "@tensorflow/c"],
  );
});

phases.run();
