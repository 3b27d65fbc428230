// Data layer: rows of a Split -> the float32 values a model sees (x / scale). The one place stored values
// (float32, or the bytes of an image file) become model input: batches, population statistics' sample and
// eval/predict all copy through here, so every consumer scales the same way.
import type { Split } from "./types.ts";

/** Copies sample `sample` of the split into `out` at row `row` (sampleSize values), scaled. */
export type RowCopier = (sample: number, out: Float32Array, row: number) => void;

/**
 * A row copy specialised to the split's storage, made once per pass (each kind its own function, so the hot
 * loop sees one array type). Every value is `x / scale` computed in float64 and rounded to float32 on the
 * store: bit-for-bit what dividing every byte up front gave. Measured building a Fashion-MNIST epoch of
 * batches (60,000 shuffled rows of 784): float32 at scale 1 (`set`) 21 ms, bytes 44 ms (a division per value: ~70
 * ms), i.e. ~0.1 ms of batch 128's ~3 ms step.
 */
export function rowCopier(split: Split, sampleSize: number): RowCopier {
  // A Split built by hand in plain JS may lack `scale` (TypeScript requires it): unscaled, as before it existed.
  const { x } = split;
  const scale = split.scale ?? 1;
  if (!(x instanceof Uint8Array)) {
    // Float32 (and, from plain JS callers, any other numeric array): a copy, divided when scaled.
    if (x instanceof Float32Array && scale === 1)
      return (sample, out, row) =>
        out.set(x.subarray(sample * sampleSize, (sample + 1) * sampleSize), row * sampleSize);
    const values = x as ArrayLike<number>;
    return (sample, out, row) =>
      divideRow(values, sample * sampleSize, out, row * sampleSize, sampleSize, scale);
  }
  // Bytes: 256 possible values, so one table of the scaled float32 values (exact: the same division) and a
  // load per value, cheaper than a division per value.
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v / scale;
  if (LITTLE_ENDIAN && x.byteOffset % 4 === 0 && sampleSize % 4 === 0) {
    // Four bytes per load (rows start on a 4-byte boundary: IDX headers are 4 + 4 * rank bytes): ~30% faster.
    // Divisions, not `>> 2`: byte offsets past 2^31 (a large inflated IDX file) would turn negative.
    const words = new Uint32Array(x.buffer, x.byteOffset, Math.floor(x.length / 4));
    return (sample, out, row) =>
      lookUpWords(words, (sample * sampleSize) / 4, out, row * sampleSize, sampleSize / 4, table);
  }
  return (sample, out, row) => lookUpRow(x, sample * sampleSize, out, row * sampleSize, sampleSize, table);
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

// The loops are top-level functions taking everything as arguments: as loops inside the closures above they ran
// ~2.5x slower once a second copier had been made (V8 reoptimises them without the first closure's constants).
function divideRow(
  x: ArrayLike<number>,
  from: number,
  out: Float32Array,
  to: number,
  n: number,
  scale: number,
): void {
  for (let k = 0; k < n; k++) out[to + k] = x[from + k]! / scale;
}

function lookUpRow(
  x: Uint8Array,
  from: number,
  out: Float32Array,
  to: number,
  n: number,
  table: Float32Array,
): void {
  for (let k = 0; k < n; k++) out[to + k] = table[x[from + k]!]!;
}

/** Samples start..start+count-1 as a fresh float32 array, scaled: for whole-array consumers (predict, benches). */
export function rowsAsFloat32(split: Split, start: number, count: number, sampleSize: number): Float32Array {
  const out = new Float32Array(count * sampleSize);
  const copy = rowCopier(split, sampleSize);
  for (let j = 0; j < count; j++) copy(start + j, out, j);
  return out;
}

function lookUpWords(
  words: Uint32Array,
  from: number,
  out: Float32Array,
  to: number,
  n: number,
  table: Float32Array,
): void {
  for (let k = 0; k < n; k++) {
    const v = words[from + k]!;
    const o = to + 4 * k;
    out[o] = table[v & 255]!;
    out[o + 1] = table[(v >>> 8) & 255]!;
    out[o + 2] = table[(v >>> 16) & 255]!;
    out[o + 3] = table[v >>> 24]!;
  }
}
