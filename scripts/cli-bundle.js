// The checkout's CLI as an esbuild bundle, so `nnc` in a checkout starts without transpiling TypeScript (tsx took
// ~0.6 s of every start) and without resolving hundreds of small module files: bin/nnc.js runs the bundle while
// every file it was built from is unchanged, and rebuilds it (~0.5-1 s, once) when one changed, so what runs is
// always what is checked out. Plain JavaScript: it runs before anything could transpile TypeScript.
//
// The bundle lives in node_modules/.cache/nnc/cli-<hash of the checkout's path>/: a manifest (the inputs as
// found when read: size, times, inode and SHA-1) and b-<hash of the output>/ holding main.mjs and its chunks.
// `node scripts/cli-bundle.js` (run by `npm run build` after tsc) also writes dist/'s precompiled IR validator.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Bumped when what a bundle holds or how the manifest reads changes: older caches are then rebuilt. */
const FORMAT = 1;
/**
 * Packages bundled in: plain JavaScript loaded at every start, whose hundreds of module files cost more to resolve
 * and load one by one than the code itself (@sinclair/typebox alone: 266 files, ~0.13 s). Every other package
 * stays an import of node_modules, as it would be run from the sources.
 */
const BUNDLED = new Set([
  "@sinclair/typebox",
  "ajv",
  "cli-progress",
  "commander",
  "fast-deep-equal",
  "fast-uri",
  "fastest-levenshtein",
  "json-schema-traverse",
  "ohm-js",
  "picocolors",
  "string-width",
  "strip-ansi",
  "ansi-regex",
  "emoji-regex",
  "is-fullwidth-code-point",
]);
/**
 * CommonJS packages loaded with require() rather than import: Node's import of a CommonJS file first scans all of
 * it for its export names (cjs-module-lexer), which for TensorFlow.js's 0.5-1.5 MB files cost more than running
 * them (measured: `import` of @tensorflow/tfjs-core 0.33-0.45 s, `require` 0.07 s). The module is the same.
 */
const REQUIRED = new Set([
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-backend-wasm",
  "@tensorflow/tfjs-layers",
  "@resvg/resvg-js",
]);
/** A write within this long before the build began may share its timestamps with a later one: hash it. */
const RACY_MS = 2000;
/** A bundle folder no manifest names is removed once this old (a run loads its chunks in its first second). */
const STALE_BUNDLE_MS = 60 * 60 * 1000;
/** Precompiled validators (one per schema and ajv version) are kept longer: regenerating one costs ~0.4 s. */
const STALE_VALIDATOR_MS = 7 * 24 * 60 * 60 * 1000;
// Chunks of CommonJS code bundled into an ES module call require(): give them Node's.
const BANNER =
  'import { createRequire as __nncCreateRequire } from "node:module";\n' +
  "const require = __nncCreateRequire(import.meta.url);";

// node:crypto is loaded only when something is hashed: a start whose inputs all stat as recorded needs none.
const requireHere = createRequire(import.meta.url);
const createHash = (algorithm) => requireHere("node:crypto").createHash(algorithm);
const sha1 = (bytes) => createHash("sha1").update(bytes).digest("hex");
/** FNV-1a, 32 bits, as hex: names the cache folder of a checkout's path without loading node:crypto. */
function pathHash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
const packageOf = (spec) =>
  spec
    .split("/")
    .slice(0, spec.startsWith("@") ? 2 : 1)
    .join("/");

/** The cache folder of the checkout at `root` (node_modules may be shared by several checkouts). */
export function cacheDir(root) {
  const real = realpathSync(root);
  return join(root, "node_modules", ".cache", "nnc", `cli-${pathHash(real)}`);
}

/**
 * Whether a file is as it was when read for the bundle. Size, inode and both times equal mean no write since:
 * a write always moves ctime, which no tool can set back. Except within the timestamps' granularity: a file
 * whose recorded ctime is within RACY_MS of the build's start could have been written again in the same tick
 * (git's "racily clean" entries), so its content is hashed instead, as is any file whose times moved.
 */
function unchanged(file, seen, builtAt) {
  let st;
  try {
    st = statSync(file);
  } catch {
    return false;
  }
  if (st.size !== seen.size) return false;
  if (
    st.ino === seen.ino &&
    st.mtimeMs === seen.mtimeMs &&
    st.ctimeMs === seen.ctimeMs &&
    seen.ctimeMs < builtAt - RACY_MS
  )
    return true;
  try {
    return sha1(readFileSync(file)) === seen.sha1;
  } catch {
    return false;
  }
}

function readManifest(cache) {
  try {
    const manifest = JSON.parse(readFileSync(join(cache, "manifest.json"), "utf8"));
    return manifest && manifest.format === FORMAT ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** The bundle's entry (a file URL) when every file it was built from is unchanged; undefined otherwise. */
export function freshBundle(root) {
  const cache = cacheDir(root);
  const manifest = readManifest(cache);
  if (!manifest) return undefined;
  for (const [file, seen] of Object.entries(manifest.inputs)) {
    if (!unchanged(file, seen, manifest.builtAt)) return undefined;
  }
  const entry = join(cache, manifest.dir, "main.mjs");
  return existsSync(entry) ? pathToFileURL(entry).href : undefined;
}

/** The bundle's entry: the cached one while fresh, else a new one built now. Throws where it cannot build. */
export async function checkoutBundle(root) {
  return freshBundle(root) ?? (await buildBundle(root));
}

/**
 * The esbuild plugin of both builds: every file read here (stat first, so a write after the read moves the times
 * recorded), the checkout's own modules given their source file's import.meta.url (so paths relative to a module,
 * such as package.json from src/version.ts or a worker's sources, resolve as they do from the sources), the
 * packages outside BUNDLED left to node_modules, and validate-precompiled.ts replaced by `precompiled` if given.
 */
function plugin(root, inputs, precompiled) {
  const record = (file) => {
    const st = statSync(file);
    const bytes = readFileSync(file);
    inputs[file] = {
      size: st.size,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
      ino: st.ino,
      sha1: sha1(bytes),
    };
    return bytes;
  };
  const stub = join(root, "src", "ir", "validate-precompiled.ts");
  const modules = join(root, "node_modules") + sep;
  const loaders = {
    ".ts": "ts",
    ".mts": "ts",
    ".cts": "ts",
    ".js": "js",
    ".mjs": "js",
    ".cjs": "js",
    ".json": "json",
  };
  return {
    name: "nnc-checkout",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith("node:") || args.namespace === "nnc-require") return { external: true };
        const name = packageOf(args.path);
        if (BUNDLED.has(name)) return undefined;
        if (REQUIRED.has(name) && args.kind !== "require-call")
          return { path: args.path, namespace: "nnc-require" };
        return { external: true };
      });
      build.onLoad({ filter: /.*/, namespace: "nnc-require" }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: "js",
        resolveDir: root,
      }));
      build.onLoad({ filter: /.*/ }, (args) => {
        const loader = loaders[extname(args.path)];
        if (!loader) return undefined;
        if (precompiled !== undefined && args.path === stub) {
          record(args.path);
          return { contents: precompiled, loader: "js" };
        }
        const bytes = record(args.path);
        if (args.path.startsWith(modules)) return { contents: bytes, loader };
        const url = JSON.stringify(pathToFileURL(args.path).href);
        return { contents: bytes.toString("utf8").replaceAll("import.meta.url", url), loader };
      });
    },
  };
}

const common = (root) => ({
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: { js: BANNER },
  logLevel: "silent",
});

/**
 * validate-codegen.ts run on the checkout's schema: its module (src/ir/validate-codegen.ts), bundled and run here,
 * gives the key of the schema, and the code is generated only for a key not generated before (~0.4 s).
 */
async function precompiledValidator(esbuild, root, cache, inputs) {
  const out = await esbuild.build({
    ...common(root),
    entryPoints: [join(root, "src", "ir", "validate-codegen.ts")],
    write: false,
    outfile: join(cache, "codegen.mjs"),
    plugins: [plugin(root, inputs, undefined)],
  });
  const file = join(cache, `codegen-${process.pid}.mjs`);
  writeFileSync(file, out.outputFiles[0].contents);
  let codegen;
  try {
    codegen = await import(pathToFileURL(file).href);
  } finally {
    rmSync(file, { force: true });
  }
  const saved = join(cache, `validator-${codegen.validatorKey()}.mjs`);
  if (existsSync(saved)) {
    touch(saved); // in use: prune() keeps it
    return readFileSync(saved, "utf8");
  }
  const code = codegen.generateValidatorModule();
  writeWhole(saved, code);
  return code;
}

/** Marks a cache entry as used now (its mtime is what prune() ages it by). */
function touch(path) {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // removed meanwhile, or a read-only cache: nothing to keep
  }
}

/** Writes a file whole or not at all, also when two processes write it at once. */
function writeWhole(file, contents) {
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, contents);
  renameSync(partial, file);
}

/** Builds the bundle into the cache, records what it was built from, and returns its entry's file URL. */
export async function buildBundle(root) {
  const cache = cacheDir(root);
  mkdirSync(cache, { recursive: true });
  const builtAt = Date.now();
  const esbuild = createRequire(join(root, "package.json"))("esbuild");
  /** @type {Record<string, object>} */
  const inputs = {};
  const precompiled = await precompiledValidator(esbuild, root, cache, inputs);
  // Sources and source maps are named relative to the output folder: build as if into b-<hash>'s sibling.
  const result = await esbuild.build({
    ...common(root),
    entryPoints: { main: join(root, "src", "cli", "main.ts") },
    splitting: true,
    outdir: join(cache, "pending"),
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunk-[hash]",
    sourcemap: "linked",
    sourcesContent: false,
    write: false,
    metafile: true,
    plugins: [plugin(root, inputs, precompiled)],
  });
  // What else decides what is built: how (this file, esbuild, tsconfig.json) and the packages' manifests.
  const extra = [fileURLToPath(import.meta.url), join(root, "tsconfig.json"), join(root, "package.json")];
  extra.push(createRequire(join(root, "package.json")).resolve("esbuild/package.json"));
  for (const file of Object.keys(inputs)) {
    const at = file.lastIndexOf(`node_modules${sep}`);
    if (at < 0) continue;
    const rest = file.slice(at + `node_modules${sep}`.length).split(sep);
    extra.push(
      join(
        file.slice(0, at),
        "node_modules",
        ...rest.slice(0, rest[0].startsWith("@") ? 2 : 1),
        "package.json",
      ),
    );
  }
  for (const file of new Set(extra)) {
    if (inputs[file] || !existsSync(file)) continue;
    const st = statSync(file);
    inputs[file] = {
      size: st.size,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
      ino: st.ino,
      // These are read after the build: one changed while it ran (an edit, an npm install) may not be what the
      // bundle was built from, so it is recorded as unknown and the next start rebuilds rather than trust it.
      sha1: st.ctimeMs >= builtAt ? "changed-during-build" : sha1(readFileSync(file)),
    };
  }

  const hash = createHash("sha1");
  for (const f of result.outputFiles) hash.update(f.path).update(f.contents);
  const dir = `b-${hash.digest("hex").slice(0, 16)}`;
  const target = join(cache, dir);
  if (existsSync(target))
    touch(target); // reused (e.g. back on an older branch): prune() must keep it
  else {
    const partial = join(cache, `${dir}.${process.pid}.tmp`);
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    for (const f of result.outputFiles)
      writeFileSync(join(partial, f.path.slice(join(cache, "pending").length + 1)), f.contents);
    try {
      renameSync(partial, target);
    } catch (e) {
      // Another process built the same bundle meanwhile: same hash, same files.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(target)) throw e;
    }
  }
  writeWhole(join(cache, "manifest.json"), JSON.stringify({ format: FORMAT, root, builtAt, dir, inputs }));
  prune(cache, dir);
  pruneOrphans(dirname(cache));
  return pathToFileURL(join(target, "main.mjs")).href;
}

/** Removes bundle folders no longer named by the manifest once STALE_BUNDLE_MS old, and abandoned partial files. */
function prune(cache, keep) {
  const now = Date.now();
  for (const name of readdirSync(cache)) {
    if (name === keep || name === "manifest.json") continue;
    const path = join(cache, name);
    const stale = name.startsWith("validator-") ? STALE_VALIDATOR_MS : STALE_BUNDLE_MS;
    try {
      if (now - statSync(path).mtimeMs > stale) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/**
 * Removes the caches of checkouts that no longer exist (node_modules may outlive them: worktrees, copies) and,
 * once STALE_BUNDLE_MS old, caches under a name their checkout no longer maps to.
 */
function pruneOrphans(caches) {
  for (const name of readdirSync(caches)) {
    if (!name.startsWith("cli-")) continue;
    const manifest = readManifest(join(caches, name));
    if (!manifest) continue;
    let orphan;
    try {
      // A cache under another name may be another nnc's, starting now: only once it is long unused.
      const renamed = () =>
        `cli-${pathHash(realpathSync(manifest.root))}` !== name &&
        Date.now() - statSync(join(caches, name, "manifest.json")).mtimeMs > STALE_BUNDLE_MS;
      orphan = !existsSync(manifest.root) || renamed();
    } catch {
      orphan = false;
    }
    if (orphan) rmSync(join(caches, name), { recursive: true, force: true });
  }
}

/** `npm run build`, after tsc: dist/'s precompiled IR validator, then the checkout's bundle (best effort). */
async function main() {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const codegen = await import(pathToFileURL(join(root, "dist", "src", "ir", "validate-codegen.js")).href);
  writeWhole(join(root, "dist", "src", "ir", "validate-precompiled.js"), codegen.generateValidatorModule());
  if (!existsSync(join(root, "src", "cli", "main.ts"))) return;
  try {
    await checkoutBundle(root);
  } catch (e) {
    // The checkout runs from its sources through tsx then; say why, but the build itself succeeded.
    process.stderr.write(`note: the CLI bundle of this checkout was not built (${e?.message ?? e})\n`);
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
