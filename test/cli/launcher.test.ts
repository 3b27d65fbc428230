// bin/nnc.js in a checkout runs the esbuild bundle of scripts/cli-bundle.js, never a stale one: each test works on
// a copy of the checkout (its sources, bin/, scripts/, a link to node_modules), changes a source the ways editors
// and tools do, and checks that the next run prints what the changed source says.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cacheDir } from "../../scripts/cli-bundle.js";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { validatorKey } from "../../src/ir/validate.ts";
import { tempDir } from "../helpers.ts";

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** A copy of the checkout that bin/nnc.js treats as one, and the cache folder its bundle goes to. */
function checkoutCopy(): { root: string; cache: string } {
  const root = tempDir("launcher");
  for (const entry of ["bin", "scripts", "src", "grammar", "specs", "package.json", "tsconfig.json"])
    cpSync(repo(entry), join(root, entry), { recursive: true });
  symlinkSync(repo("node_modules"), join(root, "node_modules"), "dir");
  // The cache sits in the shared node_modules, named through the copy's link to it: removed by its real path,
  // since the copy (and its link) may be removed first.
  const cache = join(realpathSync(join(root, "node_modules")), ".cache", "nnc", basename(cacheDir(root)));
  process.once("exit", () => rmSync(cache, { recursive: true, force: true }));
  return { root, cache };
}

function nnc(root: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, "bin", "nnc.js"), ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const manifest = (cache: string) =>
  JSON.parse(readFileSync(join(cache, "manifest.json"), "utf8")) as { dir: string; builtAt: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const launcher = suite("bin/nnc.js in a checkout");

launcher(
  "builds the bundle once, runs it while the sources are unchanged, and it prints what tsx would",
  async () => {
    const { root, cache } = checkoutCopy();
    const first = nnc(root, "check", "specs/mnist-bn.nn");
    const built = manifest(cache);
    assert.ok(existsSync(join(cache, built.dir, "main.mjs")), "the bundle is in the cache");
    const second = nnc(root, "check", "specs/mnist-bn.nn");
    assert.equal(manifest(cache), built, "the second run used the same bundle");

    // The same output and exit code as the sources run in-process (through tsx here).
    const io = memoryIO();
    const cwd = process.cwd();
    process.chdir(root);
    let code: number;
    try {
      code = await run(["check", "specs/mnist-bn.nn"], io);
    } finally {
      process.chdir(cwd);
    }
    for (const r of [first, second]) {
      assert.is(r.code, code);
      assert.is(r.stdout, io.stdout());
      assert.is(r.stderr, io.stderr());
    }
    assert.match(first.stderr, /specs\/mnist-bn\.nn: ok/);
  },
);

launcher("holds the IR validator generated from this schema, under its key", () => {
  const { root, cache } = checkoutCopy();
  assert.is(nnc(root, "--version").code, 0);
  const dir = join(cache, manifest(cache).dir);
  const chunks = readdirSync(dir).filter((f) => f.endsWith(".mjs"));
  const holder = chunks.filter((f) =>
    readFileSync(join(dir, f), "utf8").includes(`key: "${validatorKey()}"`),
  );
  assert.is(holder.length, 1, "one chunk holds the precompiled validator made from the current schema");
});

launcher("a changed source is rebuilt before it runs, however it was changed", async () => {
  const { root, cache } = checkoutCopy();
  const main = join(root, "src", "cli", "main.ts");
  const description = "nnc compiles declarative neural-network specs (.nn) to TensorFlow.js and trains them";
  assert.ok(readFileSync(main, "utf8").includes(description));
  // Older than the racy window, so an unchanged file is trusted by its stat alone and only a change re-reads it.
  await sleep(2100);
  assert.match(nnc(root, "--help").stdout, /nnc compiles declarative/);
  const before = manifest(cache);

  // An edit.
  writeFileSync(main, readFileSync(main, "utf8").replace(description, "nnc EDITED declarative specs"));
  assert.match(nnc(root, "--help").stdout, /nnc EDITED declarative specs/);
  assert.is.not(manifest(cache).dir, before.dir);

  // An edit of the same size whose modification time is set back (as `cp -p` or `touch -r` leave it).
  const { atime, mtime } = statSync(main);
  writeFileSync(main, readFileSync(main, "utf8").replace("nnc EDITED", "nnc Edited"));
  utimesSync(main, atime, mtime);
  assert.match(nnc(root, "--help").stdout, /nnc Edited declarative specs/);

  // A module the entry reaches only through others: the catalogue's message of W410.
  const catalogue = join(root, "src", "diagnostics", "catalogue.ts");
  writeFileSync(catalogue, readFileSync(catalogue, "utf8").replace("}' is redundant:", "}' is REDUNDANT:"));
  assert.match(nnc(root, "check", "specs/mnist-bn.nn").stderr, /the bias of 'dense' is REDUNDANT/);
});

launcher("a source that does not build is reported, never run from an older bundle", () => {
  const { root, cache } = checkoutCopy();
  assert.is(nnc(root, "--version").code, 0);
  const good = manifest(cache);
  const exit = join(root, "src", "cli", "exit.ts");
  const text = readFileSync(exit, "utf8");
  writeFileSync(exit, text + "\nexport const broken = ;\n");
  const r = nnc(root, "--version");
  assert.is.not(r.code, 0);
  assert.not.match(r.stdout, /0\.1\.0/);
  assert.match(r.stderr, /exit\.ts/);
  assert.equal(manifest(cache), good, "the manifest still names the bundle of the sources it was built from");
  // Mended, it runs again (from the bundle of the mended sources).
  writeFileSync(exit, text);
  assert.is(nnc(root, "--version").stdout.trim(), "0.1.0");
});

launcher("a bundle folder removed from the cache is built again", () => {
  const { root, cache } = checkoutCopy();
  assert.is(nnc(root, "--version").code, 0);
  rmSync(join(cache, manifest(cache).dir), { recursive: true });
  assert.is(nnc(root, "--version").stdout.trim(), "0.1.0");
  assert.ok(existsSync(join(cache, manifest(cache).dir, "main.mjs")));
});

launcher("the cache of a checkout that is gone is removed by the next build", () => {
  const gone = checkoutCopy();
  assert.is(nnc(gone.root, "--version").code, 0);
  assert.ok(existsSync(gone.cache));
  rmSync(gone.root, { recursive: true });
  const other = checkoutCopy();
  assert.is(nnc(other.root, "--version").code, 0);
  assert.not.ok(existsSync(gone.cache), "removed");
  assert.ok(existsSync(other.cache));
});

launcher.run();
