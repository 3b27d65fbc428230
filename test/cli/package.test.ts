// The published package: `npm run build` (tsconfig.build.json) emits dist/<path>.js for every src/<path>.ts, and
// package.json's main/types/exports, bin/nnc.js and `files` point at what it emits. Checked without building
// (a build takes seconds); a full build from a copy without src/ was verified by hand (see the commit).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const pkg = JSON.parse(readFileSync(repo("package.json"), "utf8"));
const build = JSON.parse(readFileSync(repo("tsconfig.build.json"), "utf8"));
/** Where tsc -p tsconfig.build.json writes a source file: outDir + its path from rootDir, .ts -> .js. */
const emitted = (source: string) =>
  `./${build.compilerOptions.outDir}/${source.replace(/^\.\//, "").replace(/\.ts$/, ".js")}`;

const published = suite("the published package");

published("build script and config: rootDir '.', outDir dist, sources only", () => {
  assert.is(pkg.scripts.build, "tsc -p tsconfig.build.json");
  assert.is(pkg.scripts.prepublishOnly, "npm run build");
  assert.is(build.compilerOptions.rootDir, ".");
  assert.ok(build.include.includes("src") && build.include.includes("grammar"));
  for (const dir of ["test", "bench", "examples"]) assert.ok(build.exclude.includes(dir), dir);
});

published("main, types and exports name what the build emits from src/index.ts", () => {
  assert.is(pkg.main, emitted("src/index.ts"));
  assert.is(pkg.types, emitted("src/index.ts").replace(/\.js$/, ".d.ts"));
  assert.equal(pkg.exports["."], { types: pkg.types, default: pkg.main });
});

published("bin/nnc.js runs the emitted CLI when src/ is absent; files ship what it needs", () => {
  const bin = readFileSync(repo(pkg.bin.nnc), "utf8");
  assert.ok(
    bin.includes(emitted("src/cli/main.ts").replace(/^\.\//, "")),
    "bin/nnc.js loads dist/src/cli/main.js",
  );
  for (const entry of ["bin", "dist", "grammar", "schema", "README.md"])
    assert.ok(pkg.files.includes(entry), entry);
});
published.run();
