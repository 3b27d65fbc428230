// Test and fuzz helpers for model folders as untrusted data (docs/security.md): a tiny real run folder (model,
// checkpoint, its CSV data) made at test time, the edits an attacker or a damaged disk would make to its files,
// and a spy on every file the process opens, to show that nothing outside the folder is. Used by
// test/save/security.test.ts, test/save/corrupt.test.ts and bench/fuzz-model-folders.ts.
import fs, { cpSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import fsp from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";

/** The repository: source and node_modules, which the process may open (modules loading, tfjs). */
export const REPO = realpathSync(fileURLToPath(new URL("../../", import.meta.url)));

/** A small model with batch norm (so moving statistics and Adam slots), 4 features, 3 classes. */
export const TINY_SPEC = `input 4
dense 6
batchnorm
relu
dense 3 softmax
train {
  data csv:data.csv
  optimizer adam lr=0.01
  batch 8
  epochs 1
}
`;

/** A CSV for TINY_SPEC: `rows` samples, label i % 3, four features. */
export function tinyCsv(rows = 48): string {
  const lines = ["label,a,b,c,d"];
  for (let i = 0; i < rows; i++) {
    const f = [0, 1, 2, 3].map((j) => (((i * 7 + j * 3) % 11) / 10 + (i % 3)).toFixed(2));
    lines.push(`${i % 3},${f.join(",")}`);
  }
  return lines.join("\n") + "\n";
}

/** Runs the CLI in this process; the exit code and what it printed. */
export async function nnc(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

export interface TinyRun {
  /** The folder holding the spec and its data. */
  root: string;
  spec: string;
  data: string;
  /** The run folder: model.json, weights.bin, ir.json, checkpoint.ckpt, ... */
  out: string;
}

/** Writes ROOT/tiny.nn and ROOT/data.csv and trains one epoch into ROOT/run with the CLI. */
export async function trainTinyRun(root: string): Promise<TinyRun> {
  mkdirSync(root, { recursive: true });
  const spec = join(root, "tiny.nn");
  const data = join(root, "data.csv");
  const out = join(root, "run");
  writeFileSync(spec, TINY_SPEC);
  writeFileSync(data, tinyCsv());
  const r = await nnc("train", spec, "--out", out, "--backend", "cpu", "--epochs", "1", "--threads", "1");
  if (r.code !== 0) throw new Error(`training the tiny run failed (${r.code}): ${r.stderr}`);
  return { root, spec, data, out };
}

/** A copy of a run folder (links copied as links) at `to`. */
export function copyRun(from: string, to: string): string {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  return to;
}

export function editJson(file: string, edit: (doc: any) => void): void {
  const doc = JSON.parse(readFileSync(file, "utf8"));
  edit(doc);
  writeFileSync(file, JSON.stringify(doc));
}

/** A checkpoint's parts: its JSON header and the bytes after it (padding and blob). */
export function splitCheckpoint(bytes: Buffer): { header: any; rest: Buffer } {
  const length = bytes.readUInt32LE(8);
  const end = 12 + length;
  const start = end + ((4 - (end % 4)) % 4);
  return { header: JSON.parse(bytes.toString("utf8", 12, end)), rest: bytes.subarray(start) };
}

/** A checkpoint file from a header and a blob, laid out as writeCheckpoint lays it out. */
export function joinCheckpoint(header: unknown, blob: Uint8Array): Buffer {
  const text = Buffer.from(JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(12);
  prefix.write("NNCCKPT1", 0, "latin1");
  prefix.writeUInt32LE(text.byteLength, 8);
  const padding = Buffer.alloc((4 - ((12 + text.byteLength) % 4)) % 4);
  return Buffer.concat([prefix, text, padding, blob]);
}

/**
 * Rewrites a checkpoint's header with `edit`, keeping its blob and so its checksum valid: what a hand edit, or
 * an attacker who read checkpoint.ts, makes.
 */
export function editCheckpointHeader(file: string, edit: (header: any) => void): void {
  const { header, rest } = splitCheckpoint(readFileSync(file));
  edit(header);
  writeFileSync(file, joinCheckpoint(header, rest));
}

/** What the process opened while a spy ran: real paths (a link resolved when it was opened). */
export interface OpenSpy {
  opened: string[];
  stop(): void;
}

/**
 * Records the real path of every file opened through node:fs (open, openSync, readFile, readFileSync,
 * createReadStream, and their fs/promises forms) until stop(). Only opens that succeed count (an open refused
 * with O_NOFOLLOW opened nothing); a descriptor's file is read from /proc/self/fd where there is one, so a
 * link is judged by what was really opened. ES module imports of node:fs see the wrapped functions too
 * (syncBuiltinESMExports), so nnc's own reads are recorded.
 */
export function spyOnOpens(): OpenSpy {
  const opened: string[] = [];
  const realOf = (path: unknown): string | undefined => {
    let p: string | undefined;
    if (typeof path === "string") p = path;
    else if (path instanceof URL) p = fileURLToPath(path);
    else if (Buffer.isBuffer(path)) p = path.toString();
    if (p === undefined) return undefined; // a descriptor or a FileHandle: recorded when it was opened
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const byFd = (fd: unknown, path: unknown): string | undefined => {
    if (typeof fd === "number") {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // no /proc here
      }
    }
    return realOf(path);
  };
  const record = (p: string | undefined) => {
    if (p !== undefined) opened.push(p);
  };
  const restore: Array<() => void> = [];
  const wrap = (target: any, name: string, kind: "sync" | "callback" | "promise", fdResult: boolean) => {
    const original = target[name];
    if (typeof original !== "function") return;
    target[name] = function (this: unknown, path: unknown, ...rest: unknown[]) {
      if (kind === "sync") {
        const result = original.call(this, path, ...rest);
        if (typeof path !== "number") record(fdResult ? byFd(result, path) : realOf(path));
        return result;
      }
      if (kind === "callback") {
        const callback = rest.at(-1);
        if (typeof callback === "function") {
          rest[rest.length - 1] = (error: unknown, result: unknown) => {
            if (!error && typeof path !== "number") record(fdResult ? byFd(result, path) : realOf(path));
            return (callback as (...a: unknown[]) => unknown)(error, result);
          };
        }
        return original.call(this, path, ...rest);
      }
      return (original.call(this, path, ...rest) as Promise<unknown>).then((result) => {
        if (typeof path !== "number" && !(path && typeof path === "object" && "fd" in path)) {
          record(fdResult ? byFd((result as { fd?: number })?.fd, path) : realOf(path));
        }
        return result;
      });
    };
    restore.push(() => (target[name] = original));
  };
  wrap(fs, "openSync", "sync", true);
  wrap(fs, "readFileSync", "sync", false);
  wrap(fs, "createReadStream", "sync", false);
  wrap(fs, "open", "callback", true);
  wrap(fs, "readFile", "callback", false);
  wrap(fsp, "open", "promise", true);
  wrap(fsp, "readFile", "promise", false);
  syncBuiltinESMExports();
  return {
    opened,
    stop() {
      for (const undo of restore.splice(0)) undo();
      syncBuiltinESMExports();
    },
  };
}

const within = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

/** The opened paths that are in none of `allowed` (folders or files, real paths) nor in the repository. */
export function outsideOpens(opened: readonly string[], allowed: readonly string[]): string[] {
  const roots = [REPO, ...allowed.map((a) => realpathSync(a))];
  return opened.filter((p) => !roots.some((root) => within(root, p)));
}
