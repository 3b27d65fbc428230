// Data layer: `csv:PATH`: a CSV of one label column and numeric feature columns (Kaggle's MNIST layout
// `label,pixel0,...,pixel783` works as it is) -> flat samples of shape [features]. Parsed from the bytes into
// the float32 store (integer cells without making strings), so a 42,000-row Kaggle file costs one pass.
//
// Rules: cells are comma-separated; the first row is a header when it names a label column (one of
// LABEL_NAMES), or its first cell is not a number, or most of its cells are not numbers (so a header-less file
// whose first row has one bad feature cell is refused with that cell, E509, not read as a header). The label
// column is the one `label=NAME|INDEX` names, else the first header cell of LABEL_NAMES, else the first column;
// labels are class indices 0..MAX_CLASS_INDEX (E512, E517), checked as they are read so a huge label never
// sizes anything. Blank lines are skipped. A test set is `test.csv` beside a `train.csv` when it has the label
// column too (Kaggle's test.csv has none and is ignored). Which column and which scale were taken, and why, is
// said in the source's `choices` (printed by `nnc data` and in the run header).
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fail } from "../diagnostics/diagnostic.ts";
import { didYouMean } from "../diagnostics/suggest.ts";
import { readDataFile } from "./read-file.ts";
import { impliedClasses, type LoadedSource } from "./source.ts";
import type { Split } from "./types.ts";

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CR = 0x0d;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Header names taken as the label column when no `label=` is given, in order of preference (any case). */
export const LABEL_NAMES = ["label", "labels", "target", "class", "y"] as const;
/**
 * The largest class index a CSV label may be. Labels size per-class tables and the model's output, so a
 * stray 99999999999 must be refused where it is read (it used to wrap in the int32 store, or exhaust memory).
 */
export const MAX_CLASS_INDEX = 65535;
const LABEL_WORDS = `${LABEL_NAMES.slice(0, -1).join(", ")} or ${LABEL_NAMES.at(-1)}`;

/** `label=` as written in the data setting: a header name, or a 0-based column index (negative from the end). */
export type LabelOption = string | number;

export interface CsvOptions {
  label?: LabelOption;
  /**
   * Keep only the labels (and check every row's column count): what `nnc check` needs to know the classes and
   * the sample count without storing the features. Feature cells are then not parsed (E509 is training's).
   */
  labelsOnly?: boolean;
}

/** Feature values against the image rule: are they all integers in 0..255, and the first that is not. */
export interface FeatureStats {
  /** Largest feature value. */
  max: number;
  /** Every feature value is an integer in 0..255. */
  bytes: boolean;
  /** Where the first value outside that rule is, for saying why no scale was applied. */
  firstNonByte?: { line: number; column: number; value: number };
}

export interface CsvTable {
  file: string;
  /** Column names, when the file has a header row. */
  header?: string[];
  columns: number;
  labelColumn: number;
  /** Why this column holds the labels, in words ("a recognised label name", "label=-1"). */
  labelWhy: string;
  /** Raw feature values (not yet scaled), `features` per row; empty with `labelsOnly`. */
  x: Float32Array;
  y: Int32Array;
  count: number;
  features: number;
  stats: FeatureStats;
}

const cleanCell = (text: string): string =>
  text
    .trim()
    .replace(/^"(.*)"$/, "$1")
    .trim();

const isLabelName = (cell: string): boolean =>
  (LABEL_NAMES as readonly string[]).includes(cell.toLowerCase());

interface FirstLine {
  cells: string[];
  /** Byte offsets of the line's start and of the line after it. */
  begin: number;
  end: number;
  isHeader: boolean;
}

function readFirstLine(bytes: Uint8Array, start: number, label?: LabelOption): FirstLine | undefined {
  let at = start;
  for (;;) {
    if (at >= bytes.length) return undefined;
    let end = bytes.indexOf(NEWLINE, at);
    if (end < 0) end = bytes.length;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString("utf8");
    if (text.trim() !== "") {
      const cells = text.split(",").map(cleanCell);
      const words = cells.filter((c) => !NUMBER.test(c)).length;
      const named = typeof label === "string" && cells.some((c) => c.toLowerCase() === label.toLowerCase());
      const isHeader =
        named || cells.some(isLabelName) || !NUMBER.test(cells[0]!) || words * 2 > cells.length;
      return { cells, begin: at, end: Math.min(end + 1, bytes.length), isHeader };
    }
    at = end + 1;
  }
}

const columnWord = (n: number): string => `${n} column${n === 1 ? "" : "s"}`;

/** The label column: what `label=` names, else a recognised header name, else the first column. */
function pickLabelColumn(
  first: FirstLine,
  label: LabelOption | undefined,
  file: string,
): { index: number; why: string } {
  const columns = first.cells.length;
  const header = first.isHeader ? first.cells : undefined;
  if (typeof label === "number") {
    const index = label < 0 ? columns + label : label;
    if (!Number.isInteger(label) || index < 0 || index >= columns) {
      fail("E518", {
        file,
        label: String(label),
        detail:
          `the file has ${columnWord(columns)}: give an index 0..${columns - 1}, or -1..-${columns} to count ` +
          "from the end",
      });
    }
    return { index, why: `label=${label}` };
  }
  if (label !== undefined) {
    if (!header) {
      fail("E518", {
        file,
        label,
        detail:
          "the file has no header row (its first line is data), so columns have no names: give the " +
          `column's index, e.g. label=-1 for the last of its ${columnWord(columns)}`,
      });
    }
    let index = header.indexOf(label);
    if (index < 0) index = header.findIndex((c) => c.toLowerCase() === label.toLowerCase());
    if (index < 0) {
      const near = didYouMean(label, header);
      const shown = header.length > 12 ? [...header.slice(0, 12), "..."] : header;
      fail("E518", {
        file,
        label,
        detail: `its header holds ${shown.join(", ")}${near ? ` (${near})` : ""}`,
      });
    }
    return { index, why: `label=${label}` };
  }
  if (header) {
    for (const name of LABEL_NAMES) {
      const index = header.findIndex((c) => c.toLowerCase() === name);
      if (index >= 0) return { index, why: `its name is one nnc takes for labels: ${LABEL_WORDS}` };
    }
    return {
      index: 0,
      why: `the first column, since no column is named ${LABEL_WORDS}`,
    };
  }
  return { index: 0, why: "the first column, since the file has no header row" };
}

/** A cell's text, for messages. */
const cellText = (bytes: Uint8Array, from: number, to: number): string =>
  cleanCell(Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString("utf8"));

/** Parses a whole CSV file's bytes. */
export function parseCsv(bytes: Uint8Array, file: string, options: CsvOptions = {}): CsvTable {
  // A UTF-8 byte-order mark (Excel writes one) is not part of the first cell.
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const first = readFirstLine(bytes, start, options.label);
  if (first === undefined) fail("E508", { file });
  const columns = first.cells.length;
  if (columns < 2) fail("E510", { file, line: lineOf(bytes, first.end - 1), got: columns, expected: 2 });
  const picked = pickLabelColumn(first, options.label, file);
  const labelColumn = picked.index;
  // Where the label column was nnc's pick, say why and how to name another one.
  const labelHelp =
    options.label === undefined
      ? {
          help:
            `labels are read from column ${labelColumn + 1} (${picked.why}); name the label column with ` +
            "label=NAME or label=INDEX on the data setting (0-based; label=-1 is the last column)",
        }
      : {};
  const features = columns - 1;
  const dataStart = first.isHeader ? first.end : first.begin;
  const labelsOnly = options.labelsOnly ?? false;

  let rowsBound = 1;
  for (let i = dataStart; i < bytes.length; i++) if (bytes[i] === NEWLINE) rowsBound++;
  const x = new Float32Array(labelsOnly ? 0 : rowsBound * features);
  const y = new Int32Array(rowsBound);
  const stats: FeatureStats = { max: -Infinity, bytes: true };
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
      const isLabel = col === labelColumn;
      let end = i;
      if (labelsOnly && !isLabel) {
        // Only the cell boundary matters.
        while (end < n && bytes[end] !== COMMA && bytes[end] !== NEWLINE) end++;
      } else {
        // Fast path: a cell of plain digits (every pixel of an image CSV) is accumulated without a string.
        // Past 15 digits a double is no longer exact: such a cell takes the slow path.
        let value = 0;
        let k = i;
        while (k < n && bytes[k]! >= 0x30 && bytes[k]! <= 0x39) value = value * 10 + (bytes[k++]! - 0x30);
        end = k;
        const plain =
          k > i && k - i <= 15 && (k === n || bytes[k] === COMMA || bytes[k] === NEWLINE || bytes[k] === CR);
        if (!plain) {
          while (end < n && bytes[end] !== COMMA && bytes[end] !== NEWLINE) end++;
          if (col < columns) {
            const text = cellText(bytes, i, end);
            value = NUMBER.test(text) ? Number(text) : NaN;
            if (isLabel && !(Number.isInteger(value) && value >= 0))
              fail("E512", { file, line, column: col + 1, text }, labelHelp);
            if (!Number.isFinite(value)) fail("E509", { file, line, column: col + 1, text });
          }
        } else {
          while (end < n && bytes[end] !== COMMA && bytes[end] !== NEWLINE) end++; // a trailing \r
        }
        if (isLabel) {
          if (value > MAX_CLASS_INDEX) {
            fail(
              "E517",
              { file, line, column: col + 1, text: cellText(bytes, i, end), max: MAX_CLASS_INDEX },
              labelHelp,
            );
          }
          y[row] = value;
        } else if (col < columns) {
          x[at++] = value;
          if (value > stats.max) stats.max = value;
          if (stats.bytes && !(value <= 255 && value >= 0 && Number.isInteger(value))) {
            stats.bytes = false;
            stats.firstNonByte = { line, column: col + 1, value };
          }
        }
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
    labelWhy: picked.why,
    x: x.subarray(0, labelsOnly ? 0 : row * features),
    y: y.subarray(0, row),
    count: row,
    features,
    stats,
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
  t.header?.[t.labelColumn];

/**
 * How to find the train file's label column in a test.csv, or undefined when the test file does not have it
 * (Kaggle's test.csv): by its name where both files have a header, else by its index.
 */
function testLabelColumn(bytes: Uint8Array, train: CsvTable): LabelOption | undefined {
  const name = labelName(train);
  const first = readFirstLine(bytes, 0, name);
  if (first === undefined) return undefined;
  if (name !== undefined && first.isHeader) {
    return first.cells.some((c) => c.toLowerCase() === name.toLowerCase()) ? name : undefined;
  }
  return first.cells.length === train.columns ? train.labelColumn : undefined;
}

/** The train table and, when a labelled test.csv sits beside a train.csv, the test table. */
async function readTables(
  path: string,
  options: CsvOptions,
): Promise<{ trainFile: string; train: CsvTable; testFile: string; test?: CsvTable; notes: string[] }> {
  const trainFile = resolveTrainFile(path);
  const train = parseCsv(await readDataFile(trainFile), trainFile, options);
  const notes: string[] = [];
  const testFile = join(dirname(trainFile), "test.csv");
  if (basename(trainFile).toLowerCase() !== "train.csv" || !existsSync(testFile)) {
    return { trainFile, train, testFile, notes };
  }
  const bytes = await readDataFile(testFile);
  const label = testLabelColumn(bytes, train);
  if (label === undefined) {
    notes.push(`${testFile} has no label column, so it is not used as the test set`);
    return { trainFile, train, testFile, notes };
  }
  const test = parseCsv(bytes, testFile, { ...options, label });
  if (test.features !== train.features) {
    fail("E510", { file: testFile, line: 1, got: test.columns, expected: train.columns });
  }
  return { trainFile, train, testFile, test, notes };
}

/** "column 'y' (the 3rd of 3)": the label column as `nnc data` and the run header name it. */
function describeLabelColumn(t: CsvTable): string {
  const name = labelName(t);
  const position = `index ${t.labelColumn} of ${t.columns} columns`;
  return name !== undefined ? `column '${name}' (${position})` : `column ${t.labelColumn + 1} (${position})`;
}

/**
 * The default scale of CSV features: 255 only for the image case (every feature value an integer in 0..255,
 * and some above 1: pixel bytes), else 1. Features that are already real values (Gaussian features, values
 * in [0, 1]) must not be divided: that silently shrinks them to nothing. `scale=` overrides the rule.
 */
export function csvScale(stats: FeatureStats, scale: number | undefined): { divisor: number; why: string } {
  if (scale !== undefined) {
    return {
      divisor: scale,
      why: scale === 1 ? "values used as they are (scale=1)" : `values divided by ${scale} (scale=${scale})`,
    };
  }
  if (stats.bytes && stats.max > 1) {
    return {
      divisor: 255,
      why:
        "values divided by 255: every feature value is an integer in 0..255 (pixel bytes); " +
        "write scale=1 to keep them as they are",
    };
  }
  const bad = stats.firstNonByte;
  const reason = stats.bytes
    ? "every feature value is 0 or 1"
    : `not every feature value is an integer in 0..255 (${+bad!.value.toPrecision(6)} at line ${bad!.line}, ` +
      `column ${bad!.column})`;
  return { divisor: 1, why: `values used as they are: ${reason}; write scale=S to divide them by S` };
}

function mergeStats(a: FeatureStats, b: FeatureStats | undefined): FeatureStats {
  if (!b) return a;
  const merged: FeatureStats = { max: Math.max(a.max, b.max), bytes: a.bytes && b.bytes };
  const bad = a.firstNonByte ?? b.firstNonByte;
  if (bad) merged.firstNonByte = bad;
  return merged;
}

// scale 1: the CSV values are divided in place when a scale applies (below), so x holds the model's values.
const toSplit = (t: CsvTable): Split => ({ x: t.x, scale: 1, y: t.y, count: t.count, origin: t.file });

/**
 * A CSV source: train (and test) tables, features divided by the scale csvScale picks (train and test share
 * it), and `choices` saying which label column and which scale were taken, and why.
 */
export async function loadCsvSource(
  path: string,
  options: { scale?: number; label?: LabelOption } = {},
): Promise<LoadedSource> {
  const { trainFile, train, testFile, test, notes } = await readTables(
    path,
    options.label !== undefined ? { label: options.label } : {},
  );
  const { divisor, why } = csvScale(mergeStats(train.stats, test?.stats), options.scale);
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
    choices: [
      `labels: ${describeLabelColumn(train)}: ${train.labelWhy}; choose another with label=NAME|INDEX`,
      `scale: ${why}`,
    ],
    notes,
  };
  if (test) loaded.test = toSplit(test);
  return loaded;
}

/** What `nnc check` needs of a CSV source, reading labels only: shape, classes, sample counts. */
export async function csvMetadata(
  path: string,
  label: LabelOption | undefined,
): Promise<{ sampleShape: number[]; numClasses: number; trainCount: number; testCount?: number }> {
  const { train, test } = await readTables(path, {
    labelsOnly: true,
    ...(label !== undefined ? { label } : {}),
  });
  const meta = {
    sampleShape: [train.features],
    numClasses: impliedClasses(train.y, test?.y ?? []),
    trainCount: train.count,
  };
  return test ? { ...meta, testCount: test.count } : meta;
}
