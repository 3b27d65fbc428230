// Data layer: IDX files (the MNIST file format) -> typed arrays. Takes a file path (gzipped or not, told by
// its magic bytes, not its name) and gives the unsigned-byte payload with its dimensions, as a view of the
// inflated bytes: images stay bytes (scaled when batches are built), so a 60,000-image file is one read, no copy.
import { closeSync, fstatSync, openSync, read } from "node:fs";
import { open } from "node:fs/promises";
import { constants, gunzip, gunzipSync } from "node:zlib";
import { promisify } from "node:util";
import { fail } from "../diagnostics/diagnostic.ts";
import { readDataFile, readFailure } from "./read-file.ts";

const gunzipAsync = promisify(gunzip);

/** IDX type byte for unsigned bytes: the only element type MNIST-style image and label files use. */
const UBYTE = 0x08;

export interface IdxArray {
  file: string;
  /** All dimensions, the first being the number of items. */
  dims: number[];
  /** prod(dims) bytes, a view into the file's buffer. */
  data: Uint8Array;
}

/**
 * Reads a file and, when it starts with the gzip magic 1f 8b, inflates it. Async gunzip runs on libuv's pool,
 * so the training and test files of a folder decompress in parallel and the event loop stays free. E502 when the file cannot be read.
 */
export async function readMaybeGzipped(file: string): Promise<Uint8Array> {
  return inflateIfGzipped(await readDataFile(file), file);
}

/** The bytes of a file as read, inflated when they start with the gzip magic 1f 8b (E513 when that fails). */
async function inflateIfGzipped(raw: Buffer, file: string): Promise<Uint8Array> {
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      // gzip's trailer holds the inflated size (mod 2^32): one output chunk of that size avoids node's default
      // 16 KB chunks and their final concatenation (measured on Fashion-MNIST: ~100 ms for all four files,
      // against ~200 ms with default chunks and ~140 ms with gunzipSync). A wrong trailer only costs speed.
      // One chunk is also one job on libuv's pool, run to its end however busy the main thread is.
      const inflated = raw.length >= 4 ? raw.readUInt32LE(raw.length - 4) : 0;
      return await gunzipAsync(raw, {
        chunkSize: Math.min(Math.max(inflated + 1, 64 * 1024), 256 * 1024 * 1024),
      });
    } catch (error) {
      return fail("E513", { file, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return raw;
}

/** Reads started ahead of need (prefetchFile), by path, each taken by the first readIdx of its file. */
const prefetched = new Map<string, Promise<Uint8Array | undefined>>();

/**
 * Starts reading and inflating a file that readIdx will be asked for soon, both on libuv's pool, so the work
 * runs while the main thread does other things (nnc train: while TensorFlow.js loads). The first readIdx of the
 * file takes the result, errors included; a read that fails here is done again there, which reports why.
 */
export function prefetchFile(file: string): void {
  if (prefetched.has(file)) return;
  const bytes = readWhole(file).then((raw) => raw && inflateIfGzipped(raw, file));
  bytes.catch(() => {}); // reported by the readIdx that takes it; never an unhandled rejection meanwhile
  prefetched.set(file, bytes);
}

/**
 * The file in one read request on libuv's pool (undefined if anything fails). fs.promises.readFile reads 512
 * KB at a time, each continued from the main thread: behind synchronous module loading a 26 MB file would
 * barely start. Reading on the main thread costs it ~80 ms for 26 MB here, most of it the first touch of the
 * fresh buffer's pages. (A worker thread doing read and gunzip was slower: ~40 ms to start, and one file after
 * another where the pool inflates the training and test images side by side.)
 */
function readWhole(file: string): Promise<Buffer | undefined> {
  let fd: number;
  let size: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return Promise.resolve(undefined);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error("not a file");
    size = stats.size;
  } catch {
    closeSync(fd);
    return Promise.resolve(undefined);
  }
  const buffer = Buffer.allocUnsafe(size);
  return new Promise((done) =>
    read(fd, buffer, 0, size, 0, (error, n) => {
      closeSync(fd);
      done(error || n !== size ? undefined : buffer);
    }),
  );
}

/** A prefetched file's bytes, once; else (or if the read ahead failed) read now. */
async function readPrefetched(file: string): Promise<Uint8Array> {
  const pending = prefetched.get(file);
  prefetched.delete(file);
  return (await pending) ?? readMaybeGzipped(file);
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;

/**
 * The dimensions an IDX header announces (E503 for a wrong magic number, E504 for a cut-off header), from the
 * file's first bytes: all parseIdx needs before the payload, and all `nnc check` reads of an image file.
 */
export function parseIdxHeader(
  bytes: Uint8Array,
  file: string,
  kind: "images" | "labels",
): { dims: number[]; headerBytes: number } {
  const expected =
    kind === "labels" ? "0x00000801 (unsigned-byte labels)" : "0x00000803 (unsigned-byte images)";
  if (bytes.length < 4)
    fail("E504", { file, expected: 4, got: bytes.length }, { notes: ["the 4-byte magic number is cut off"] });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const rank = bytes[3]!;
  const rankOk = kind === "labels" ? rank === 1 : rank >= 2;
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== UBYTE || !rankOk)
    fail("E503", { file, found: hex(magic), expected });
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    fail(
      "E504",
      { file, expected: headerBytes, got: bytes.length },
      { notes: ["the header itself is cut off"] },
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d));
  return { dims, headerBytes };
}

/** Parses an IDX buffer of unsigned bytes with `rank` dimensions (1 for labels, 2+ for samples). */
export function parseIdx(bytes: Uint8Array, file: string, kind: "images" | "labels"): IdxArray {
  const { dims, headerBytes } = parseIdxHeader(bytes, file, kind);
  const size = dims.reduce((a, b) => a * b, 1);
  const available = bytes.length - headerBytes;
  if (available < size) fail("E504", { file, expected: size, got: available });
  return { file, dims, data: bytes.subarray(headerBytes, headerBytes + size) };
}

export async function readIdx(file: string, kind: "images" | "labels"): Promise<IdxArray> {
  return parseIdx(await readPrefetched(file), file, kind);
}

/** Enough leading bytes for any IDX header (4 + 4 * 255 bytes at most). */
const HEADER_PREFIX = 1024;

/**
 * An IDX file's dimensions from its first bytes only (a gzipped file is inflated just far enough): what `nnc
 * check` reads of an image file, which can be hundreds of megabytes. The payload is not checked (training does).
 */
export async function readIdxDims(file: string, kind: "images" | "labels"): Promise<number[]> {
  let raw: Buffer;
  try {
    const handle = await open(file, "r");
    try {
      // The gzip header and the first deflate block's start: 4 KB inflates to far more than a header needs,
      // and at most ~4 MB, whatever the file.
      const buffer = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      raw = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    return fail("E502", { file, detail: readFailure(error) });
  }
  let head: Uint8Array = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      // Z_SYNC_FLUSH: give what inflates from a stream that is cut off (here, on purpose) instead of failing.
      head = gunzipSync(raw, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, HEADER_PREFIX);
    } catch (error) {
      return fail("E513", { file, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return parseIdxHeader(head, file, kind).dims;
}
