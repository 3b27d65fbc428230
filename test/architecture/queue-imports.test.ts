// BullMQ and ioredis load only with --queue (nnc experiment --queue, nnc worker): no module that the CLI loads
// statically imports them, so a local run never pays for them. Checked by following static imports (dynamic
// import() is how the queue modules are reached; `import type` is erased by the compiler).
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";

const root = fileURLToPath(new URL("../../", import.meta.url));
const QUEUE_PACKAGES = /^(bullmq|ioredis)(\/|$)/;

/** Modules a file imports statically at run time (not `import type`, not `import()`). */
const staticImports = (text: string): string[] =>
  [
    ...text.matchAll(
      /(?:^|\n)\s*(import|export)(?!\s+type\b)[^;"'()]*?from\s+["']([^"']+)["']|(?:^|\n)\s*import\s+["']([^"']+)["']/g,
    ),
  ].map((m) => (m[2] ?? m[3])!);

function staticallyReached(start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [resolve(root, start)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const specs = staticImports(readFileSync(file, "utf8"));
    seen.set(file, specs);
    for (const spec of specs) {
      if (!spec.startsWith(".")) continue;
      const target = resolve(dirname(file), spec);
      if (existsSync(target) && target.endsWith(".ts")) todo.push(target);
    }
  }
  return seen;
}

const imports = suite("optional queue packages");

imports("the CLI, local experiments and the worker command never import bullmq or ioredis statically", () => {
  for (const start of [
    "src/cli/main.ts",
    "src/cli/commands/experiment.ts",
    "src/cli/commands/worker.ts",
    "src/experiment/run-experiment.ts",
    "src/experiment/queue/processor.ts",
  ]) {
    const reached = staticallyReached(start);
    assert.ok(reached.size > 3 || start.endsWith("main.ts"), `${start}: found its imports`);
    for (const [file, specs] of reached) {
      for (const spec of specs) {
        assert.not.ok(
          QUEUE_PACKAGES.test(spec),
          `${relative(root, file)} (reached from ${start}) imports ${spec}`,
        );
      }
    }
  }
});

imports("the queue modules that do import them are there (the check above looks at the right names)", () => {
  const coordinator = staticImports(
    readFileSync(resolve(root, "src/experiment/queue/coordinator.ts"), "utf8"),
  );
  assert.ok(coordinator.some((s) => QUEUE_PACKAGES.test(s)));
});

imports.run();
