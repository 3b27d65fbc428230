// Test entry point: loads every test/**/*.test.ts into uvu's deferred queue, runs them, and prints the
// `N passed, N failed` line that CI reads (uvu itself prints no failed count).
// Usage: tsx test/run.ts [substring...]  — only files whose path contains one of the substrings.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type Result = [errs: string, ran: number, skip: number, max: number];
type Queue = Array<Array<string | (() => Promise<Result>)>>;
const g = globalThis as unknown as { UVU_DEFER: number; UVU_QUEUE: Queue };
g.UVU_DEFER = 1;
g.UVU_QUEUE = [];

const root = fileURLToPath(new URL(".", import.meta.url));
function findTests(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === "fixtures" ? [] : findTests(path);
      return name.endsWith(".test.ts") ? [path] : [];
    });
}

// The wasm backend initialised as nnc's CLI and API do (selectBackend: on a shared heap where there are two
// cores), whichever test file initialises it first: tests that call tf.setBackend("wasm") then get that heap.
const { selectBackend } = await import("../src/runtime/backend.ts");
await selectBackend("wasm");

const filters = process.argv.slice(2);
const files = findTests(root).filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
for (const file of files) {
  g.UVU_QUEUE.push([relative(root, file)]);
  await import(pathToFileURL(file).href);
}

// Count per test suite by wrapping uvu's queued runners; exec() runs what we hand it.
let passed = 0;
let failed = 0;
let skipped = 0;
for (const group of g.UVU_QUEUE) {
  for (let i = 1; i < group.length; i++) {
    const runSuite = group[i] as () => Promise<Result>;
    group[i] = async () => {
      const result = await runSuite();
      const [, ran, skip, max] = result;
      passed += ran;
      skipped += skip;
      failed += max - ran - skip;
      return result;
    };
  }
}
const { exec } = await import("uvu");
await exec(false);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
if (failed > 0 || files.length === 0) process.exitCode = 1;
