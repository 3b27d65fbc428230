// Test helpers for the data layer: small IDX files written to a folder (temp folders and "fails with code X"
// are in test/helpers.ts).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** An IDX file: magic 00 00 <type> <rank>, big-endian dims, then the bytes. */
export function idxBytes(dims: number[], data: ArrayLike<number>, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([header, Buffer.from(Uint8Array.from(data))]);
}

/** `count` samples of `shape`; pixel j of sample i is (i * 7 + j) % 256, label i % classes. */
export function makeSamples(
  count: number,
  shape: number[],
  classes = 10,
): { images: Buffer; labels: Buffer } {
  const size = shape.reduce((a, b) => a * b, 1);
  const pixels = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) for (let j = 0; j < size; j++) pixels[i * size + j] = (i * 7 + j) % 256;
  const labels = Array.from({ length: count }, (_, i) => i % classes);
  return { images: idxBytes([count, ...shape], pixels), labels: idxBytes([count], labels) };
}

export interface IdxFolderOptions {
  train?: number;
  test?: number;
  shape?: number[];
  gzip?: boolean;
  /** "dash" (train-images-idx3-ubyte) or "dot" (train-images.idx3-ubyte). */
  spelling?: "dash" | "dot";
}

export function writeIdxFolder(dir: string, options: IdxFolderOptions = {}): string {
  const { train = 50, test = 20, shape = [4, 4], gzip = false, spelling = "dash" } = options;
  mkdirSync(dir, { recursive: true });
  const write = (set: string, count: number) => {
    const { images, labels } = makeSamples(count, shape);
    const name = (kind: string, ext: string) =>
      `${set}-${kind}${spelling === "dash" ? "-" : "."}${ext}${gzip ? ".gz" : ""}`;
    writeFileSync(join(dir, name("images", "idx3-ubyte")), gzip ? gzipSync(images) : images);
    writeFileSync(join(dir, name("labels", "idx1-ubyte")), gzip ? gzipSync(labels) : labels);
  };
  write("train", train);
  if (test > 0) write("t10k", test);
  return dir;
}
