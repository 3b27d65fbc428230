// Saving: the one door through which nnc reads a file that a model folder or a run's checkpoint names. A model
// folder is what people share, so it is untrusted data: model.json names its weight files, and whoever wrote it
// chooses those names. Every such file is resolved here, and only here:
//   - it must be a plain file name in the folder (no '/', '\', '..', absolute or drive paths), so a name
//     cannot reach another folder;
//   - its real path must stay inside the folder's real path, so a symbolic link cannot lead out either;
//   - it must be a regular file (not a directory, a device such as /dev/zero, a FIFO that blocks, a socket);
//   - its size is known before it is read, so callers compare it with what the manifest describes and refuse
//     what is too large before allocating anything (docs/security.md states these guarantees).
// The file is then opened without following links (O_NOFOLLOW) and checked again on the open descriptor, so it
// cannot be swapped for a link between the check and the read.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  readlinkSync,
  realpathSync,
  statSync,
  type Stats,
} from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { fail } from "../diagnostics/index.ts";

/**
 * The most weight bytes nnc reads from one model folder (and per part of a checkpoint): 2 GiB, 512 M float32
 * values. The largest model nnc trains on the wasm backend (a 4 GiB heap holding weights, gradients and two Adam
 * slots) has about 1 GiB of weights, so a real model is well under it, and a hostile manifest cannot make nnc
 * allocate more.
 */
export const MAX_WEIGHT_BYTES = 2 * 1024 ** 3;
/** The most bytes nnc reads from one JSON file of a model folder (model.json, ir.json) or a checkpoint header. */
export const MAX_JSON_BYTES = 64 * 1024 ** 2;

/** A file of a folder that passed the checks above: where it really is and how large it is. */
export interface FolderFile {
  /** The folder as the caller named it, for messages. */
  dir: string;
  name: string;
  /** The path as the user sees it (dir/name), for messages. */
  shown: string;
  /** The real path (a link inside the folder resolved). */
  real: string;
  size: number;
  /** Device and inode, to tell that the file opened is the file checked. */
  dev: number;
  ino: number;
}

/** "2.0 GiB": sizes in messages. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Text from an untrusted file as messages show it: control characters (which could rewrite a terminal) escaped,
 * cut at 200 characters.
 */
export function printable(text: string): string {
  const escaped = text.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return escaped.length > 200 ? `${escaped.slice(0, 197)}...` : escaped;
}

/** A name from an untrusted file as messages show it: quoted, control characters escaped, cut at 80 characters. */
export function shownName(name: unknown): string {
  const text = printable(JSON.stringify(name) ?? String(name));
  return text.length > 80 ? `${text.slice(0, 77)}..."` : text;
}

/**
 * Whether `name` is a plain file name: a non-empty string without separators of any platform, not '.' or '..',
 * without a drive prefix (C:), NUL or other control characters. Everything nnc writes passes.
 */
export function isPlainFileName(name: unknown): name is string {
  return (
    typeof name === "string" &&
    name.length > 0 &&
    name.length <= 255 &&
    name !== "." &&
    name !== ".." &&
    !/[/\\:\u0000-\u001f]/.test(name) &&
    !isAbsolute(name)
  );
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

const unreadable = (file: string, e: unknown): never => {
  const err = e as NodeJS.ErrnoException;
  const reason = err.code === "EACCES" ? "permission denied" : (err.message ?? String(e));
  return fail("E001", { file, reason });
};

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
};

/**
 * Resolves the file `name` of folder `dir`, named by `source` (e.g. "model.json's weightsManifest[0].paths[1]",
 * for messages). Undefined when there is no such file; E010 for a name that is not a plain file name, E011 for a
 * link out of the folder, E012 for what is not a regular file, E001 for what cannot be looked at.
 */
export function resolveFolderFile(dir: string, name: unknown, source: string): FolderFile | undefined {
  if (!isPlainFileName(name)) return fail("E010", { dir, source, name: shownName(name) });
  const shown = join(dir, name);
  let link: Stats;
  try {
    link = lstatSync(shown);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return unreadable(shown, e);
  }
  let real = shown;
  let stats = link;
  if (link.isSymbolicLink()) {
    let target: string;
    try {
      target = readlinkSync(shown);
    } catch (e) {
      return unreadable(shown, e);
    }
    let realDir: string;
    try {
      realDir = realpathSync(dir);
      real = realpathSync(shown);
    } catch {
      // A dangling link, or one through a loop: wherever it points, it is not a file of this folder.
      return fail("E011", { file: shown, target, dir });
    }
    if (!inside(realDir, real)) return fail("E011", { file: shown, target, dir });
    try {
      stats = statSync(real);
    } catch (e) {
      return unreadable(shown, e);
    }
  }
  if (!stats.isFile()) return fail("E012", { file: shown, kind: kindOf(stats) });
  return { dir, name, shown, real, size: stats.size, dev: stats.dev, ino: stats.ino };
}

/** Like resolveFolderFile, for a file that must exist: `missing` says what it is when it does not. */
export function requireFolderFile(
  dir: string,
  name: unknown,
  source: string,
  missing: (shown: string) => never,
): FolderFile {
  return resolveFolderFile(dir, name, source) ?? missing(join(dir, String(name)));
}

/**
 * Opens a resolved file for reading: without following a link (the real path has none), without blocking (a
 * FIFO swapped in after the check), and only if the descriptor's file is the one checked. Returns the descriptor.
 */
export function openFolderFile(file: FolderFile): number {
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  let fd: number;
  try {
    fd = openSync(file.real, flags);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP") {
      return fail("E011", {
        file: file.shown,
        target: "(replaced by a link while being read)",
        dir: file.dir,
      });
    }
    return unreadable(file.shown, e);
  }
  const stats = fstatSync(fd);
  if (!stats.isFile() || stats.dev !== file.dev || stats.ino !== file.ino || stats.size !== file.size) {
    closeSync(fd);
    return fail("E012", { file: file.shown, kind: "a file that changed while nnc was reading it" });
  }
  return fd;
}

/** Fills `target` from `fd` at `position`; false when the file ends first. */
export function readFully(fd: number, target: Uint8Array, position: number): boolean {
  let done = 0;
  while (done < target.byteLength) {
    const n = readSync(fd, target, done, target.byteLength - done, position + done);
    if (n === 0) return false;
    done += n;
  }
  return true;
}

/**
 * The whole content of a resolved file of at most `limit` bytes (E014 before reading when larger). For the
 * folder's JSON files; weights are read tensor by tensor (blob.ts), never as one buffer.
 */
export function readFolderFile(file: FolderFile, limit: number, what: string): Buffer {
  if (file.size > limit) {
    return fail("E014", { file: file.shown, what, size: formatBytes(file.size), limit: formatBytes(limit) });
  }
  const fd = openFolderFile(file);
  try {
    const bytes = Buffer.alloc(file.size);
    if (!readFully(fd, bytes, 0)) {
      return fail("E012", { file: file.shown, kind: "a file that changed while nnc was reading it" });
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}
