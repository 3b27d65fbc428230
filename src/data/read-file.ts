// Data layer: reading a data file's bytes, with the file system's refusals (a folder where a file should be,
// no permission, gone since it was found) turned into E502 naming the file and the reason, not an internal error.
import { readFile } from "node:fs/promises";
import { fail } from "../diagnostics/diagnostic.ts";

const REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EISDIR: "is a folder, not a file",
  EACCES: "cannot be read: permission denied",
  EPERM: "cannot be read: operation not permitted",
  ELOOP: "cannot be read: too many symbolic links",
  ENOTDIR: "cannot be read: a part of its path is a file, not a folder",
};

/** Why a read failed, in words: the errno's meaning, else the system's message. */
export function readFailure(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  return (err?.code && REASONS[err.code]) || `cannot be read: ${err?.message ?? String(error)}`;
}

/** The whole file; E502 `file: reason` when it cannot be read. */
export async function readDataFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    return fail("E502", { file, detail: readFailure(error) });
  }
}
