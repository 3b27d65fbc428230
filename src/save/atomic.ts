// Saving: writes a file so that readers (and a process killed mid-write) see either the old file or the whole
// new one, never a prefix: the bytes go to a temporary file in the same folder, are flushed to disk, and the
// temporary file is renamed over the target (rename within one file system is atomic on POSIX).
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Test hook: called after the temporary file is written and before the rename that publishes it. */
let beforeRename: ((tempPath: string, target: string) => void) | undefined;
export function setBeforeRename(hook: typeof beforeRename): void {
  beforeRename = hook;
}

export function writeFileAtomic(target: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true });
  // Dot-prefixed and pid-tagged, so two processes never share a temporary file and listings skip it.
  const temp = join(dir, `.${basename(target)}.${process.pid}.tmp`);
  const parts =
    typeof data === "string" ? [Buffer.from(data, "utf8")] : data instanceof Uint8Array ? [data] : data;
  const fd = openSync(temp, "w");
  try {
    for (const part of parts) {
      let written = 0;
      while (written < part.byteLength) written += writeSync(fd, part, written);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw e;
  }
  closeSync(fd);
  beforeRename?.(temp, target);
  renameSync(temp, target);
  syncDirectory(dir);
}

/** Makes the rename itself durable; some file systems refuse to open a folder for fsync, which is harmless. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // not supported here
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
