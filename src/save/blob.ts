// Saving: named float32 tensors <-> one little-endian byte blob plus a JSON index. Used for weights.bin (whose
// index is model.json's weightsManifest, in the TensorFlow.js layout: tensors back to back, no padding) and
// for checkpoints.
//
// Blob layout: for each index entry in order, prod(shape) float32 values, little-endian, row-major, with no
// header or padding between tensors. The index entry { name, shape } alone locates a tensor: its offset is the
// sum of the sizes before it. A blob's length must equal 4 * the sum of all sizes.
import type { WeightData } from "../runtime/types.ts";

export interface TensorEntry {
  name: string;
  shape: number[];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The bytes of a float32 array in little-endian order (a view, without copying, on little-endian machines). */
export function float32Bytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** Index entries and the byte chunks whose concatenation is the blob (not concatenated, to spare a copy). */
export function packTensors(tensors: ReadonlyArray<[string, WeightData]>): {
  entries: TensorEntry[];
  chunks: Uint8Array[];
  byteLength: number;
} {
  const entries: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let byteLength = 0;
  for (const [name, { shape, data }] of tensors) {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`tensor ${name}: ${data.length} values for shape [${shape.join(", ")}]`);
    }
    entries.push({ name, shape: [...shape] });
    chunks.push(float32Bytes(data));
    byteLength += data.byteLength;
  }
  return { entries, chunks, byteLength };
}

/**
 * Reads the tensors an index describes out of a blob (copies, so the result does not pin the file's buffer).
 * Returns a problem as a string instead of throwing, so callers can report it in their own diagnostic.
 */
export function unpackTensors(
  entries: readonly TensorEntry[],
  blob: Uint8Array,
): { tensors: Map<string, WeightData> } | { problem: string } {
  const expected = 4 * entries.reduce((n, e) => n + sizeOf(e.shape), 0);
  if (blob.byteLength !== expected) {
    return { problem: `holds ${blob.byteLength} bytes where its index describes ${expected}` };
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const tensors = new Map<string, WeightData>();
  let offset = 0;
  for (const { name, shape } of entries) {
    const n = sizeOf(shape);
    let data: Float32Array;
    if (LITTLE_ENDIAN) {
      // A copy into a fresh buffer (Buffer#slice would share the file's, possibly pooled, memory).
      data = new Float32Array(n);
      new Uint8Array(data.buffer).set(blob.subarray(offset, offset + 4 * n));
    } else {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(offset + 4 * i, true);
    }
    tensors.set(name, { shape: [...shape], data });
    offset += 4 * n;
  }
  return { tensors };
}
