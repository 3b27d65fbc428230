// Run folders: the --out folder of `nnc train` (and of `nnc experiment`), owned by one process at a time.
//
// - A lock file, DIR/.nnc.lock, created with O_EXCL (open "wx": exactly one of two racing processes creates it)
//   and holding the owner's pid, host and command. A second run into the folder is refused (E640) while the
//   owner lives; a lock whose pid is dead (a run killed with SIGKILL) is stale and taken over.
// - Temporary files of writeFileAtomic (.NAME.PID.tmp) whose pid is dead are left-overs of a killed write:
//   the next run into the folder removes them.
// - What a folder holds decides what a run may do with it: an empty one (or one holding only nnc's left-overs)
//   is free, an nnc run needs --resume or --force (E606), anything else --force (E641). --force removes nnc's
//   own files only, ir.json first: ir.json marks a complete save, so `nnc eval` sees the old model whole or
//   refuses the folder, never the old model beside the new run's files.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fail } from "../diagnostics/index.ts";
import { tempFileOwner, WriteError, writeFailureReason } from "./atomic.ts";
import { CHECKPOINT_FILE } from "./checkpoint.ts";
import { INFERENCE_DIR, MODEL_FILES } from "./model.ts";

export const LOCK_FILE = ".nnc.lock";

/** A folder or lock that cannot be made (no permission, a read-only disk): E007, not a bare system error. */
const cannotWrite = (path: string, e: unknown): WriteError =>
  new WriteError(path, writeFailureReason(e), (e as NodeJS.ErrnoException)?.code);

/** What the lock file holds: enough to tell whether its owner still runs, and to tell a user who it is. */
interface LockInfo {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

/** A folder this process owns until release(). */
export interface FolderLock {
  readonly dir: string;
  /** Removes the lock file (if it is still this lock's). Also done when the process exits. */
  release(): void;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processIsAlive(pid: number): boolean {
  // kill(0 or negative) would signal a process group: such a pid is no process of ours to find.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The lock file's content and identity (inode); undefined when there is none. */
function readLock(path: string): { info?: LockInfo; ino: number; ageMs: number } | undefined {
  let fd: number;
  try {
    // A shared folder's lock file is untrusted (docs/security.md): a link is not followed out of the folder and
    // a FIFO does not block; either is a lock without content, judged by its age.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    if ((e as NodeJS.ErrnoException).code === "ELOOP") return { ino: lstatSync(path).ino, ageMs: Infinity };
    throw e;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ino: stat.ino, ageMs: Infinity };
    const bytes = Buffer.alloc(Math.min(stat.size, 4096));
    const n = readSync(fd, bytes, 0, bytes.byteLength, 0);
    let info: LockInfo | undefined;
    try {
      const value = JSON.parse(bytes.toString("utf8", 0, n)) as Partial<LockInfo>;
      if (typeof value.pid === "number" && typeof value.host === "string") {
        info = {
          pid: value.pid,
          host: value.host,
          command: String(value.command ?? "nnc"),
          startedAt: String(value.startedAt ?? "?"),
        };
      }
    } catch {
      // empty (its owner is between creating and writing it, or died there) or not ours: judged by age
    }
    return { ...(info ? { info } : {}), ino: stat.ino, ageMs: Date.now() - stat.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** A lock file without readable content is taken for a live one this long (its owner may be writing it). */
const UNREADABLE_LOCK_GRACE_MS = 10_000;

/** Whether the lock's owner may still be running; when it may, who it is, in words. */
function liveHolder(lock: { info?: LockInfo; ageMs: number }): string | undefined {
  const { info } = lock;
  if (!info) return lock.ageMs < UNREADABLE_LOCK_GRACE_MS ? "a lock file being written just now" : undefined;
  const who = `${info.command}, pid ${info.pid}, started ${info.startedAt}`;
  // Another machine's process cannot be checked from here (a folder on a shared disk): assume it runs.
  if (info.host !== hostname()) return `${who} on host ${info.host}`;
  // This very process: another run started in it (the API or tests) still holds the folder.
  if (info.pid === process.pid) return `${who} (this process)`;
  return processIsAlive(info.pid) ? who : undefined;
}

/**
 * Removes a stale lock file, but only the one judged stale (inode `ino`): it is renamed aside first, so if
 * another process took the folder over in the meantime, its fresh lock is put back rather than deleted.
 */
function removeStaleLock(path: string, ino: number): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return; // someone else removed it
    throw e;
  }
  if (statSync(aside).ino !== ino) {
    try {
      linkSync(aside, path); // fails only if yet another lock appeared: that one stands
    } catch {
      // keep the newer lock
    }
  }
  unlinkSync(aside);
}

/**
 * Takes the folder's lock, or says who holds it. The folder must exist. A stale lock (dead pid) is replaced.
 */
export function tryLockFolder(dir: string, command: string): FolderLock | { holder: string } {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw cannotWrite(path, e);
      const held = readLock(path);
      if (!held) continue; // released meanwhile: try again
      const holder = liveHolder(held);
      if (holder !== undefined) return { holder };
      removeStaleLock(path, held.ino);
      continue;
    }
    const info: LockInfo = {
      pid: process.pid,
      host: hostname(),
      command,
      startedAt: new Date().toISOString(),
    };
    let ino: number;
    try {
      writeSync(fd, JSON.stringify(info) + "\n");
      ino = fstatSync(fd).ino;
    } finally {
      closeSync(fd);
    }
    return ownedLock(dir, path, ino);
  }
  return { holder: "another process that keeps taking it" };
}

function ownedLock(dir: string, path: string, ino: number): FolderLock {
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.removeListener("exit", release);
    try {
      // Only our own lock: a folder whose lock was (wrongly) taken over keeps its new owner's.
      if (statSync(path).ino === ino) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  // process.exit (Ctrl-C's handler, an error on the way out) skips `finally` blocks but not 'exit' listeners.
  process.on("exit", release);
  return { dir, release };
}

/** Takes the folder's lock (E640 when a live run holds it). */
export function lockFolder(dir: string, command: string): FolderLock {
  const lock = tryLockFolder(dir, command);
  if ("holder" in lock) {
    return fail(
      "E640",
      { dir, holder: lock.holder },
      {
        help: `if no such run is going on (its pid now belongs to another program), remove ${join(dir, LOCK_FILE)}`,
      },
    );
  }
  return lock;
}

const staleLockOwner = (name: string): number | undefined => {
  const match = /^\.nnc\.lock\.(\d+)\.stale$/.exec(name);
  return match ? Number(match[1]) : undefined;
};

/** Whether a name in a run folder is nnc's bookkeeping: the lock, a lock being replaced, a temporary file. */
const isBookkeeping = (name: string): boolean =>
  name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.`) || tempFileOwner(name) !== undefined;

/**
 * Removes temporary files that processes no longer running left in `dir` (and its inference/ folder): a write
 * killed before its rename. Returns the names removed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const folder of [dir, join(dir, INFERENCE_DIR)]) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      // A lock set aside by a process that died while replacing it (removeStaleLock) is left-over too.
      const owner = tempFileOwner(name) ?? staleLockOwner(name);
      if (owner === undefined || owner === process.pid || processIsAlive(owner)) continue;
      rmSync(join(folder, name), { force: true });
      removed.push(join(folder, name));
    }
  }
  return removed;
}

/** nnc train's files in a run folder, ir.json first: the order --force removes them in. */
const RUN_FILES = [
  MODEL_FILES.ir,
  MODEL_FILES.topology,
  MODEL_FILES.weights,
  INFERENCE_DIR,
  MODEL_FILES.history,
  MODEL_FILES.manifest,
  CHECKPOINT_FILE,
];

export type FolderContents =
  | { kind: "empty" }
  /** A run of nnc train: a saved model or a checkpoint. */
  | { kind: "run" }
  | { kind: "other"; entries: string[] };

/** What a folder holds, nnc's bookkeeping (lock, temporary files) aside. */
export function folderContents(dir: string): FolderContents {
  const entries = readdirSync(dir).filter((name) => !isBookkeeping(name));
  if (entries.length === 0) return { kind: "empty" };
  if (entries.includes(MODEL_FILES.ir) || entries.includes(CHECKPOINT_FILE)) return { kind: "run" };
  return { kind: "other", entries: entries.sort() };
}

/**
 * --force: removes nnc train's own files from `dir`, ir.json first (see the top of this file); other files
 * stay. Returns the names removed.
 */
export function removeRunFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const name of RUN_FILES) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** A run's output folder, locked: `fresh` when this run made it (or took over one a killed run left empty). */
export interface RunFolder extends FolderLock {
  readonly fresh: boolean;
  /**
   * Gives the folder back when the run ends having written nothing: releases the lock and removes the folder
   * if this run made it and it holds nothing else, so failed and interrupted starts leave no empty folders.
   */
  abandon(): void;
}

/**
 * Makes `dir` if needed, locks it for a run (E640 when a live run holds it) and removes the stale temporary
 * files in it. Fresh: made here, or holding only a killed run's left-overs.
 */
export function openRunFolder(dir: string, command: string): RunFolder {
  const existed = existsSync(dir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw cannotWrite(dir, e);
  }
  const leftover = existed && folderContents(dir).kind === "empty" && readdirSync(dir).length > 0;
  const lock = lockFolder(dir, command);
  return withAbandon(lock, !existed || leftover);
}

function withAbandon(lock: FolderLock, fresh: boolean): RunFolder {
  try {
    removeStaleTempFiles(lock.dir);
  } catch (e) {
    lock.release();
    throw e;
  }
  return {
    dir: lock.dir,
    fresh,
    release: lock.release,
    abandon: () => {
      lock.release();
      if (!fresh) return;
      try {
        removeStaleTempFiles(lock.dir);
        rmdirSync(lock.dir); // only if empty: anything written meanwhile is kept
      } catch {
        // not empty after all, or already gone: keep it
      }
    },
  };
}

/**
 * Makes and locks a new folder at `dir`, or takes over one that holds only what a killed run left (its stale
 * lock and temporary files); undefined when `dir` is another folder or a live run's.
 */
export function claimNewFolder(dir: string, command: string): RunFolder | undefined {
  // Fresh: made here, or a killed run's left-over (so removed again if this run too writes nothing); an empty
  // folder someone made is used but left in place.
  let fresh = true;
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw cannotWrite(dir, e);
    if (!statSync(dir).isDirectory() || folderContents(dir).kind !== "empty") return undefined;
    fresh = readdirSync(dir).length > 0;
  }
  const lock = tryLockFolder(dir, command);
  if ("holder" in lock) return undefined;
  // Another process may have written into it between the check and the lock: then it is theirs.
  if (folderContents(dir).kind !== "empty") {
    lock.release();
    return undefined;
  }
  return withAbandon(lock, fresh);
}

/** Text from a file a folder's author controls, made safe to print (no control characters, bounded). */
const printableText = (text: string): string =>
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?").slice(0, 200);

/**
 * A run folder whose run has not finished (a checkpoint but no ir.json): E603 saying what is there and how to
 * get a model out of it, rather than listing missing files. The lock a killed run left names its spec.
 */
export function refuseUnfinishedRun(dir: string): void {
  if (!existsSync(join(dir, CHECKPOINT_FILE)) || existsSync(join(dir, MODEL_FILES.ir))) return;
  const lock = readLock(join(dir, LOCK_FILE));
  const command = lock?.info?.command;
  const spec = command?.startsWith("nnc train ") ? printableText(command.slice("nnc train ".length)) : "SPEC";
  const running = lock ? liveHolder(lock) : undefined;
  fail(
    "E603",
    {
      dir,
      detail: running
        ? `its run is still training (${printableText(running)}); the model is saved when it finishes`
        : `it holds a checkpoint (${CHECKPOINT_FILE}) but no saved model: its run stopped before the end ` +
          "(killed, or its last save failed)",
    },
    {
      help:
        `continue the run: nnc train ${spec} --resume --out ${dir}` +
        (running ? "" : "; or save the model as it is: the same with --epochs set to the epochs it finished"),
    },
  );
}
