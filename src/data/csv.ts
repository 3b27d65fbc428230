// Data layer: `csv:PATH`: a CSV of one label column and numeric feature columns (Kaggle's MNIST layout
// `label,pixel0,...,pixel783` works as it is) -> flat samples of shape [features]. Parsed from the bytes into
// the float32 store (integer cells without making strings), so a 42,000-row Kaggle file costs one pass.
//
// Rules: cells are comma-separated; the first row is a header when it names a `label` column, or its first cell
// is not a number, or most of its cells are not numbers (so a header-less file whose first row has one bad
// feature cell is refused with that cell, E509, not read as a header); the label column is the one whose header
// is `label` (any case), else the first; blank lines are skipped. A test set is
// `test.csv` beside a `train.csv` when it has the label column too (Kaggle's test.csv has none and is ignored).
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fail } from "../diagnostics/diagnostic.ts";
import { readDataFile } from "./read-file.ts";
import { impliedClasses, type LoadedSource } from "./source.ts";
import type { Split } from "./types.ts";

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CR = 0x0d;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export interface CsvTable {
  file: string;
  /** Column names, when the file has a header row. */
  header?: string[];
  columns: number;
  labelColumn: number;
  /** Raw feature values (not yet scaled), `features` per row. */
  x: Float32Array;
  y: Int32Array;
  count: number;
  features: number;
  /** Largest feature value, to decide the default scale. */
  max: number;
}

const cleanCell = (text: string): string =>
  text
    .trim()
    .replace(/^"(.*)"$/, "$1")
    .trim();

interface FirstLine {
  cells: string[];
  /** Byte offsets of the line's start and of the line after it. */
  begin: number;
  end: number;
  isHeader: boolean;
}

function readFirstLine(bytes: Uint8Array, start: number): FirstLine | undefined {
  let at = start;
  for (;;) {
    if (at >= bytes.length) return undefined;
    let end = bytes.indexOf(NEWLINE, at);
    if (end < 0) end = bytes.length;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString("utf8");
    if (text.trim() !== "") {
      const cells = text.split(",").map(cleanCell);
      const words = cells.filter((c) => !NUMBER.test(c)).length;
      const isHeader =
        cells.some((c) => c.toLowerCase() === "label") || !NUMBER.test(cells[0]!) || words * 2 > cells.length;
      return { cells, begin: at, end: Math.min(end + 1, bytes.length), isHeader };
    }
    at = end + 1;
  }
}

/** Parses a whole CSV file's bytes. */
export function parseCsv(bytes: Uint8Array, file: string): CsvTable {
  // A UTF-8 byte-order mark (Excel writes one) is not part of the first cell.
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const first = readFirstLine(bytes, start);
  if (first === undefined) fail("E508", { file });
  const columns = first.cells.length;
  if (columns < 2) fail("E510", { file, line: lineOf(bytes, first.end - 1), got: columns, expected: 2 });
  const named = first.isHeader ? first.cells.findIndex((c) => c.toLowerCase() === "label") : -1;
  const labelColumn = named >= 0 ? named : 0;
  const features = columns - 1;
  const dataStart = first.isHeader ? first.end : first.begin;

  let rowsBound = 1;
  for (let i = dataStart; i < bytes.length; i++) if (bytes[i] === NEWLINE) rowsBound++;
  const x = new Float32Array(rowsBound * features);
  const y = new Int32Array(rowsBound);
  let max = -Infinity;
  let row = 0;
  let line = lineOf(bytes, dataStart);
  const n = bytes.length;
  let i = dataStart;
  while (i < n) {
    let j = i;
    while (j < n && (bytes[j] === 0x20 || bytes[j] === 0x09 || bytes[j] === CR)) j++;
    if (j >= n) break;
    if (bytes[j] === NEWLINE) {
      i = j + 1;
      line++;
      continue;
    }
    let col = 0;
    let at = row * features;
    for (;;) {
      // Fast path: a cell of plain digits (every pixel of an image CSV) is accumulated without a string.
      let value = 0;
      let k = i;
      while (k < n && bytes[k]! >= 0x30 && bytes[k]! <= 0x39) value = value * 10 + (bytes[k++]! - 0x30);
      let end = k;
      const plain = k > i && (k === n || bytes[k] === COMMA || bytes[k] === NEWLINE || bytes[k] === CR);
      if (!plain) {
        while (end < n && bytes[end] !== COMMA && bytes[end] !== NEWLINE) end++;
        const text = cleanCell(Buffer.from(bytes.buffer, bytes.byteOffset + i, end - i).toString("utf8"));
        if (col < columns) {
          value = NUMBER.test(text) ? Number(text) : NaN;
          if (col === labelColumn && !(Number.isInteger(value) && value >= 0))
            fail("E512", { file, line, column: col + 1, text });
          if (!Number.isFinite(value)) fail("E509", { file, line, column: col + 1, text });
        }
      } else {
        while (end < n && bytes[end] !== COMMA && bytes[end] !== NEWLINE) end++; // a trailing \r
      }
      if (col === labelColumn) y[row] = value;
      else if (col < columns) {
        x[at++] = value;
        if (value > max) max = value;
      }
      col++;
      if (end >= n || bytes[end] === NEWLINE) {
        i = end + 1;
        break;
      }
      i = end + 1;
    }
    if (col !== columns) fail("E510", { file, line, got: col, expected: columns });
    row++;
    line++;
  }
  if (row === 0) fail("E508", { file });
  const table: CsvTable = {
    file,
    columns,
    labelColumn,
    x: x.subarray(0, row * features),
    y: y.subarray(0, row),
    count: row,
    features,
    max,
  };
  if (first.isHeader) table.header = first.cells;
  return table;
}

/** 1-based line number of a byte offset. */
function lineOf(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === NEWLINE) line++;
  return line;
}

/** The training CSV a `csv:` path names (the file, or train.csv in a folder); E502 when it is not there. */
export function resolveTrainFile(path: string): string {
  if (!existsSync(path)) fail("E502", { file: path, detail: "no such file" });
  if (statSync(path).isDirectory()) {
    const inside = join(path, "train.csv");
    if (!existsSync(inside))
      fail("E502", { file: path, detail: "is a folder without train.csv: looked for train.csv" });
    return inside;
  }
  return path;
}

/** The label column's name, for matching a test file's header. */
const labelName = (t: { header?: string[]; labelColumn: number }): string | undefined =>
  t.header?.[t.labelColumn]?.toLowerCase();

/** Whether a test.csv's first line shows the train file's label column (Kaggle's test.csv lacks it). */
function testHasLabels(bytes: Uint8Array, train: CsvTable): boolean {
  const first = readFirstLine(bytes, 0);
  if (first === undefined) return false;
  if (train.header && first.isHeader) {
    return first.cells.some((c) => c.toLowerCase() === labelName(train));
  }
  return first.cells.length === train.columns;
}

// scale 1: the CSV values are divided in place when a scale applies (below), so x holds the model's values.
const toSplit = (t: CsvTable): Split => ({ x: t.x, scale: 1, y: t.y, count: t.count, origin: t.file });

/**
 * `scale`: divide every feature by it; by default 255 when some feature exceeds 1 (pixel bytes), else 1
 * (data already normalized is left alone). Train and test share the scale.
 */
export async function loadCsvSource(path: string, scale: number | undefined): Promise<LoadedSource> {
  const trainFile = resolveTrainFile(path);
  const train = parseCsv(await readDataFile(trainFile), trainFile);
  const notes: string[] = [];
  let test: CsvTable | undefined;
  const testFile = join(dirname(trainFile), "test.csv");
  if (basename(trainFile).toLowerCase() === "train.csv" && existsSync(testFile)) {
    const bytes = await readDataFile(testFile);
    if (testHasLabels(bytes, train)) {
      test = parseCsv(bytes, testFile);
      if (test.features !== train.features) {
        fail("E510", { file: testFile, line: 1, got: test.columns, expected: train.columns });
      }
    } else {
      notes.push(`${testFile} has no label column, so it is not used as the test set`);
    }
  }
  const max = Math.max(train.max, test?.max ?? -Infinity);
  const divisor = scale ?? (max > 1 ? 255 : 1);
  if (divisor !== 1) {
    for (const t of test ? [train, test] : [train])
      for (let i = 0; i < t.x.length; i++) t.x[i] = t.x[i]! / divisor;
  }
  const label = labelName(train) ?? `column ${train.labelColumn + 1}`;
  const loaded: LoadedSource = {
    sampleShape: [train.features],
    numClasses: impliedClasses(train.y, test?.y ?? []),
    train: toSplit(train),
    description:
      `CSV ${trainFile}${test ? ` with ${testFile}` : ""}: ${train.features} features, labels in '${label}'` +
      (divisor !== 1 ? `, values divided by ${divisor}` : ""),
    notes,
  };
  if (test) loaded.test = toSplit(test);
  return loaded;
}
