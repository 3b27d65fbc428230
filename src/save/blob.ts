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

/** Bytes of the tensors an index describes: 4 per float32 value. */
export const bytesOf = (entries: readonly TensorEntry[]): number =>
  4 * entries.reduce((n, e) => n + sizeOf(e.shape), 0);

/**
 * Reads the tensors an index describes, in order, each straight into its own Float32Array: `fill` fills the
 * bytes handed to it with the next bytes of the blob (from one file or several, see readers in model.ts and
 * checkpoint-read.ts). No buffer of the whole blob is ever held, so memory is what the tensors need. The
 * caller has checked beforehand that the blob holds exactly bytesOf(entries) bytes.
 */
export function readTensors(
  entries: readonly TensorEntry[],
  fill: (bytes: Uint8Array) => void,
): Map<string, WeightData> {
  const tensors = new Map<string, WeightData>();
  for (const { name, shape } of entries) {
    const data = new Float32Array(sizeOf(shape));
    const bytes = new Uint8Array(data.buffer);
    fill(bytes);
    if (!LITTLE_ENDIAN) {
      const view = new DataView(data.buffer);
      for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(4 * i, true);
    }
    tensors.set(name, { shape: [...shape], data });
  }
  return tensors;
}
