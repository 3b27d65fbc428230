// Workers started from a checkout: the TypeScript entry and the sources it imports run as one bundled plain-JS
// module from node_modules/.cache/nnc (no TypeScript loader of its own in the worker).
import { readdirSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startWorker } from "../../src/util/worker-entry.ts";

const Entry = suite("worker entry points");

Entry("a .ts worker runs bundled, its imports of nnc's sources included", async () => {
  const here = new URL("../fixtures/workers/index.ts", import.meta.url).href;
  const worker = startWorker(here, "echo-worker", {});
  const reply = await new Promise<{ size: number }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await worker.terminate();
  assert.is(reply.size, 24);
  const cache = fileURLToPath(new URL("../../node_modules/.cache/nnc/", import.meta.url));
  assert.ok(existsSync(cache), cache);
  assert.ok(
    readdirSync(cache).some((f) => /^workers-echo-worker-[0-9a-f]{16}\.mjs$/.test(f)),
    `${readdirSync(cache)}`,
  );
});

Entry.run();
