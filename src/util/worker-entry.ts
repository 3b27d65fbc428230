// worker_threads entry points that work both from a build and from a checkout run through tsx.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * A worker running the module `name` beside the module at `here` (pass import.meta.url): name.js in a build. In a
 * checkout, name.ts and what it imports bundled into one plain-JS file (bundledEntry), else, where that cannot be
 * written, name.ts behind a bootstrap that registers tsx's loader first (Node 20 ignores `--import` in a worker's
 * execArgv).
 */
export function startWorker(here: string, name: string, options: Omit<WorkerOptions, "eval">): Worker {
  if (!here.endsWith(".ts")) return new Worker(new URL(`./${name}.js`, here), options);
  const entry = new URL(`./${name}.ts`, here);
  const bundled = bundledEntry(entry);
  if (bundled) return new Worker(bundled, options);
  const tsx = import.meta.resolve("tsx/esm/api");
  const bootstrap =
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })` +
    `.catch((e) => { throw e; });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * startWorker without blocking this thread while a checkout's entry is bundled (~0.1 s of esbuild): for a thread
 * that is only an aid (the kernel helper), started while this one goes on working.
 */
export async function startWorkerAsync(
  here: string,
  name: string,
  options: Omit<WorkerOptions, "eval">,
): Promise<Worker> {
  if (!here.endsWith(".ts")) return new Worker(new URL(`./${name}.js`, here), options);
  const bundled = await bundledEntryAsync(new URL(`./${name}.ts`, here));
  return bundled ? new Worker(bundled, options) : startWorker(here, name, options);
}

/**
 * The file of the module `name` beside the module at `here`, for a runner that imports it in a thread of its own
 * (BullMQ's sandboxed processors): name.js in a build; in a checkout the bundle of name.ts (bundledEntry), else a
 * bootstrap module that registers tsx's loader and re-exports name.ts's default export.
 */
export function workerModuleFile(here: string, name: string): string {
  if (!here.endsWith(".ts")) return fileURLToPath(new URL(`./${name}.js`, here));
  const entry = new URL(`./${name}.ts`, here);
  const bundled = bundledEntry(entry);
  if (bundled) return fileURLToPath(bundled);
  const tsx = import.meta.resolve("tsx/esm/api");
  const file = join(mkdtempSync(join(tmpdir(), "nnc-worker-")), `${name}.mjs`);
  writeFileSync(
    file,
    `const { register } = await import(${JSON.stringify(tsx)});\nregister();\n` +
      `const m = await import(${JSON.stringify(entry.href)});\nexport default m.default;\n`,
  );
  return file;
}

const bundles = new Map<string, URL | undefined>();

/**
 * `entry` and the sources it imports as one ES module (esbuild, what tsx itself transpiles with; packages stay
 * imports), written once per content into node_modules/.cache/nnc/ so that packages resolve from there. A worker
 * that registers tsx instead gets a loader thread and a transpiler of its own: measured on a full Fashion-MNIST
 * run with a second training thread, ~100 MB more peak RSS, and 1-2 s more to start. Undefined when it cannot
 * be written (read-only node_modules).
 */
function bundledEntry(entry: URL): URL | undefined {
  if (bundles.has(entry.href)) return bundles.get(entry.href);
  let url: URL | undefined;
  try {
    const { esbuild, options } = bundleOptions(entry);
    url = cachedBundle(entry, esbuild.buildSync(options).outputFiles![0]!.text);
  } catch {
    url = undefined;
  }
  bundles.set(entry.href, url);
  return url;
}

/** bundledEntry without blocking this thread while esbuild works (it runs in esbuild's own process). */
async function bundledEntryAsync(entry: URL): Promise<URL | undefined> {
  if (bundles.has(entry.href)) return bundles.get(entry.href);
  let url: URL | undefined;
  try {
    const { esbuild, options } = bundleOptions(entry);
    url = cachedBundle(entry, (await esbuild.build(options)).outputFiles![0]!.text);
  } catch {
    url = undefined;
  }
  bundles.set(entry.href, url);
  return url;
}

function bundleOptions(entry: URL) {
  const require = createRequire(entry);
  const esbuild = require("esbuild") as typeof import("esbuild");
  const options: import("esbuild").BuildOptions & { write: false } = {
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    write: false,
    logLevel: "silent",
  };
  return { esbuild, options };
}

/** `code` written once per content into node_modules/.cache/nnc/ (see bundledEntry). */
function cachedBundle(entry: URL, code: string): URL {
  const require = createRequire(entry);
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  // The folder of the package esbuild came from: <root>/node_modules/esbuild -> <root>/node_modules/.cache/nnc.
  const cache = join(dirname(dirname(require.resolve("esbuild/package.json"))), ".cache", "nnc");
  const stem = fileURLToPath(entry).split(/[\\/]/).slice(-2).join("-").replace(/\.ts$/, "");
  const file = join(cache, `${stem}-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(cache, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, file); // whole or absent, also when two processes bundle at once
  }
  return pathToFileURL(file);
}
