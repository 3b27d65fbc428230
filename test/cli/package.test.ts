// The published package: `npm run build` (tsconfig.build.json) emits dist/<path>.js for every src/<path>.ts, and
// package.json's main/types/exports, bin/nnc.js and `files` point at what it emits. `prepare` runs the build, so
// a tarball (`npm pack`) or a git install ships dist/: the last test packs one and imports it from another project.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
  // tsc, then scripts/cli-bundle.js: dist/'s precompiled IR validator and the checkout's CLI bundle.
  assert.is(pkg.scripts.build, "tsc -p tsconfig.build.json && node scripts/cli-bundle.js");
  // `prepare`, not `prepublishOnly`: npm runs it on pack, publish and git installs alike.
  assert.is(pkg.scripts.prepare, "npm run build");
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
published("a packed tarball, installed in another project, imports and runs without src/", () => {
  const dir = mkdtempSync(join(tmpdir(), "nnc-pack-"));
  try {
    // npm pack runs `prepare` (the build) first, as a git install does.
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--pack-destination", dir], {
        cwd: repo("."),
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = packed[0].files.map((f) => f.path);
    assert.ok(paths.includes(emitted("src/index.ts").slice(2)), "the tarball holds dist/src/index.js");
    assert.ok(!paths.some((p) => p.startsWith("src/")), "and no TypeScript sources");

    const app = join(dir, "app");
    const installed = join(app, "node_modules", "nnc");
    mkdirSync(installed, { recursive: true });
    execFileSync("tar", ["-xzf", join(dir, packed[0].filename), "-C", installed, "--strip-components=1"]);
    // The dependencies come from this checkout's node_modules (no registry here): linked, as npm would place them.
    for (const dep of Object.keys(pkg.dependencies as Record<string, string>)) {
      const link = join(app, "node_modules", dep);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(repo(`node_modules/${dep}`), link, "dir");
    }
    writeFileSync(join(app, "package.json"), JSON.stringify({ type: "module", private: true }));
    writeFileSync(
      join(app, "main.js"),
      'import { compile } from "nnc";\n' +
        'const r = compile("input 4\\ndense 8 relu\\ndense 2 softmax\\n");\n' +
        "console.log(JSON.stringify({ ok: r.ok, ops: r.program.models[0].layers.map((l) => l.op) }));\n",
    );
    const out = JSON.parse(execFileSync("node", ["main.js"], { cwd: app, encoding: "utf8" }));
    assert.equal(out, { ok: true, ops: ["input", "dense", "dense"] });

    writeFileSync(join(app, "bad.nn"), "input 4\ndense 8 rleu\n");
    let printed = "";
    try {
      execFileSync("node", ["node_modules/nnc/bin/nnc.js", "check", "bad.nn"], {
        cwd: app,
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (e) {
      const failed = e as { status: number; stdout: string; stderr: string };
      assert.is(failed.status, 1, "the installed CLI reports the spec error (exit 1), not a crash");
      printed = failed.stdout + failed.stderr;
    }
    assert.match(printed, /relu/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
published.run();
