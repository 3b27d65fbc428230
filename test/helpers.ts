// Test helpers shared by the test folders: fresh temporary folders (removed when the test process exits) and
// "this fails with NncError CODE", which gives the diagnostic back for checks of its message, help and span.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as assert from "uvu/assert";
import type { Code } from "../src/diagnostics/catalogue.ts";
import { NncError, type Diagnostic } from "../src/diagnostics/diagnostic.ts";

const made: string[] = [];
process.once("exit", () => removeTempDirs());

/** A new empty folder under the OS temp dir, named `nnc-<name>-XXXXXX`. */
export function tempDir(name = "test"): string {
  const dir = mkdtempSync(join(tmpdir(), `nnc-${name}-`));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir made so far (suites with many saves call it in their `after` hook). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Awaits `action` (a promise, or a function, sync or async) and checks that it fails with NncError `code`;
 * returns the diagnostic. Any other exception is rethrown, so a bug is not mistaken for a user error.
 */
export async function failsWith(code: Code, action: Promise<unknown> | (() => unknown)): Promise<Diagnostic> {
  try {
    await (typeof action === "function" ? action() : action);
  } catch (error) {
    if (!(error instanceof NncError)) throw error;
    assert.is(
      error.diagnostic.code,
      code,
      `expected ${code}, got ${error.diagnostic.code}: ${error.message}`,
    );
    return error.diagnostic;
  }
  assert.unreachable(`expected ${code}, but it succeeded`);
  throw new Error("unreachable");
}
