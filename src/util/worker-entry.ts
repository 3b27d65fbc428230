// worker_threads entry points that work both from a build and from a checkout run through tsx.
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * A worker running the module `name` beside the module at `here` (pass import.meta.url): name.js in a build; in
 * a checkout, name.ts behind a small bootstrap that registers tsx's loader first (Node 20 ignores `--import` in
 * a worker's execArgv).
 */
export function startWorker(here: string, name: string, options: Omit<WorkerOptions, "eval">): Worker {
  if (!here.endsWith(".ts")) return new Worker(new URL(`./${name}.js`, here), options);
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL(`./${name}.ts`, here).href;
  const bootstrap =
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })` +
    `.catch((e) => { throw e; });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
