// Saving: writes a file so that readers (and a process killed mid-write) see either the old file or the whole
// new one, never a prefix: the bytes go to a temporary file in the same folder, are flushed to disk, and the
// temporary file is renamed over the target (rename within one file system is atomic on POSIX).
// A write that fails (a full disk, no permission) removes its temporary file, leaves the target as it was and
// throws WriteError (E007), never a bare system error.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { diagnostic, NncError } from "../diagnostics/index.ts";

/** Test hook: called after the temporary file is written and before the rename that publishes it. */
let beforeRename: ((tempPath: string, target: string) => void) | undefined;
export function setBeforeRename(hook: typeof beforeRename): void {
  beforeRename = hook;
}

/**
 * Test hook: opens the temporary file instead of openSync(temp, "w"). A test hands back a descriptor of
 * /dev/full, so the writes that follow meet the kernel's real "no space left on device" (ENOSPC).
 */
let openTemp: ((tempPath: string) => number) | undefined;
export function setOpenTemp(hook: typeof openTemp): void {
  openTemp = hook;
}

/** The temporary file writeFileAtomic uses for `target` in process `pid`. */
export const tempFileFor = (target: string, pid = process.pid): string =>
  join(dirname(target), `.${basename(target)}.${pid}.tmp`);

/** The process that wrote a temporary file of writeFileAtomic, from its name; undefined for other names. */
export function tempFileOwner(name: string): number | undefined {
  const match = /^\..+\.(\d+)\.tmp$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** A file that could not be written: E007 naming the file and why; the file itself is as it was. */
export class WriteError extends NncError {
  constructor(
    readonly file: string,
    /** Why, in words ("no space left on the device (ENOSPC)"). */
    readonly reason: string,
    /** The system's error code (ENOSPC, EACCES, ...), when there is one. */
    readonly errno: string | undefined,
  ) {
    super(diagnostic("E007", { file, reason }));
    this.name = "WriteError";
  }
}

/** A system error of a write, in words a user can act on. */
export function writeFailureReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case "ENOSPC":
      return "no space left on the device (ENOSPC)";
    case "EDQUOT":
      return "the disk quota is exhausted (EDQUOT)";
    case "EACCES":
    case "EPERM":
      return `permission denied (${err.code})`;
    case "EROFS":
      return "the file system is read-only (EROFS)";
    case "ENOTDIR":
      return "a part of the path is a file, not a folder (ENOTDIR)";
    case "EISDIR":
      return "it is a folder (EISDIR)";
    case "EIO":
      return "an input/output error of the device (EIO)";
    default:
      return err?.message ?? String(e);
  }
}

const writeError = (target: string, e: unknown): WriteError =>
  e instanceof WriteError
    ? e
    : new WriteError(target, writeFailureReason(e), (e as NodeJS.ErrnoException)?.code);

/** A write that failed: its temporary file closed and removed (the target was never touched), as WriteError. */
function failed(target: string, temp: string, fd: number | undefined, e: unknown): WriteError {
  if (fd !== undefined) {
    try {
      closeSync(fd);
    } catch {
      // already failing: the first error is the one to report
    }
  }
  rmSync(temp, { force: true });
  return writeError(target, e);
}

export function writeFileAtomic(target: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const dir = dirname(target);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw writeError(target, e);
  }
  // Dot-prefixed and pid-tagged, so two processes never share a temporary file, listings skip it, and the next
  // run into the folder can tell one left by a killed process (src/save/run-folder.ts removes those).
  const temp = tempFileFor(target);
  const parts =
    typeof data === "string" ? [Buffer.from(data, "utf8")] : data instanceof Uint8Array ? [data] : data;
  let fd: number | undefined;
  try {
    fd = openTemp ? openTemp(temp) : openExclusive(temp);
    for (const part of parts) {
      let written = 0;
      while (written < part.byteLength) written += writeSync(fd, part, written);
    }
    // A full disk may only show here (delayed allocation), so a write is not done until fsync succeeds.
    fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    closeSync(closing);
  } catch (e) {
    throw failed(target, temp, fd, e);
  }
  // Outside the clean-up above: a hook that throws stands for a process that dies here, which cleans nothing.
  beforeRename?.(temp, target);
  try {
    renameSync(temp, target);
  } catch (e) {
    throw failed(target, temp, undefined, e);
  }
  syncDirectory(dir);
}

/**
 * Creates the temporary file, refusing to open anything already there (O_EXCL): a link planted under the
 * temporary name (the folder may be shared) is removed, never followed, so a write cannot land outside the
 * folder. A file of the same name is a left-over of a killed process that had this pid, and is removed too.
 */
function openExclusive(temp: string): number {
  try {
    return openSync(temp, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    rmSync(temp, { force: true }); // unlinks a link itself, not what it points at
    return openSync(temp, "wx");
  }
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
