// The front end as one call: source text (.nn, or IR JSON) -> checked IR program + diagnostics.
//   text -> parse -> syntax tree -> build -> IR -> validate (schema) -> check -> checked IR
// Each phase returns diagnostics instead of throwing; this module locates them in the source and sorts them.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { buildProgram, type BuildResult } from "./build/build.ts";
import { checkProgram, type CheckResult } from "./check/check.ts";
import {
  boundWarnings,
  diagnostic,
  hasErrors,
  promoteWarnings,
  sortDiagnostics,
  SourceText,
  type Diagnostic,
} from "./diagnostics/index.ts";
import { validateIR } from "./ir/validate.ts";
import type { Program } from "./ir/schema.ts";
import { parseSource } from "./parse/parse.ts";
import type { SourceFile } from "./parse/syntax-tree.ts";

export interface CompileOptions {
  /** Shown in diagnostics; names a file's anonymous model (its base name). */
  filename?: string;
  /** Warnings become errors. */
  strict?: boolean;
}

export interface CompileResult {
  /** No errors (warnings allowed unless strict). */
  ok: boolean;
  /** The checked program: every layer's outputShape and params filled, the loss resolved. Present when ok. */
  program?: Program;
  /** Located (file, line, column) and sorted by position. */
  diagnostics: Diagnostic[];
  /**
   * The checked program also when there were errors (compileFile only): a command line that overrides the
   * settings an error was about (--epochs, --lr) may make the spec trainable (src/cli/check-overrides.ts).
   */
  checked?: Program;
  /**
   * The decoded text and the sha256 of the file's bytes (compileFile only): what diagnostics point into and
   * what a run records, so nothing reads the spec a second time (it may have changed since).
   */
  source?: { text: string; sha256: string };
}

/** Parses .nn text into its syntax tree. */
export function parse(
  source: string,
  options: { filename?: string } = {},
): { tree: SourceFile; diagnostics: Diagnostic[] } {
  return parseSource(source, options.filename);
}

/** Checks an IR program (shapes, parameter counts, references, lints). Does not modify its argument. */
export function check(program: Program, options: { strict?: boolean } = {}): CheckResult {
  return checkProgram(program, options);
}

/** Two phases may see the same problem (e.g. an invalid number): report it once. */
function dedupe(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const key = `${d.code} ${d.span?.join(":")} ${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function finish(diags: Diagnostic[], strict: boolean | undefined, source?: SourceText): Diagnostic[] {
  // Bounded before promotion, so --strict shows the same list, as errors.
  const bounded = boundWarnings(sortDiagnostics(dedupe(diags)));
  const promoted = strict ? promoteWarnings(bounded) : bounded;
  return source ? source.locate(promoted) : promoted;
}

/**
 * What compile() knows on the way, for tools that look into a spec as it is being written (the language server,
 * src/lsp/): the syntax tree, and the checked program even where there are errors (shapes and parameter counts
 * filled where they are known; absent when nothing was built, or after a syntax error).
 */
export interface Analysis {
  ok: boolean;
  tree: SourceFile;
  program?: Program;
  diagnostics: Diagnostic[];
}

/** compile() with its syntax tree and its program, complete or not. */
export function analyze(source: string, options: CompileOptions = {}): Analysis {
  const file = options.filename ?? "<input>";
  const parsed = parseSource(source, options.filename);
  const syntaxErrors = hasErrors(parsed.diagnostics);
  // A file the parser could not read at all (e.g. binary) has an empty tree: "no statements" would be noise.
  const built: BuildResult =
    syntaxErrors && parsed.tree.items.length === 0
      ? { diagnostics: [], gaps: new Map() }
      : buildProgram(parsed.tree, options.filename === undefined ? {} : { filename: options.filename });
  const diags = [...parsed.diagnostics, ...built.diagnostics];
  let checked: Program | undefined;
  if (built.program) {
    const valid = validateIR(built.program);
    if (valid.diagnostics.length > 0) {
      // The builder only makes IR from typed, range-checked values: a schema failure here is our bug.
      throw new Error(
        `internal: the IR builder made invalid IR: ${valid.diagnostics.map((d) => d.message).join("; ")}`,
      );
    }
    // After a syntax error the tree is a best guess: checking it would mostly report the guess.
    if (!syntaxErrors) {
      // The IR was built here for this call alone: checked in place.
      const result = checkProgram(built.program, { gaps: built.gaps, owned: true });
      diags.push(...result.diagnostics);
      checked = result.program;
    }
  }
  const diagnostics = finish(diags, options.strict, new SourceText(file, source));
  const ok = !hasErrors(diagnostics) && checked !== undefined;
  return { ok, tree: parsed.tree, diagnostics, ...(checked ? { program: checked } : {}) };
}

/** Compiles .nn source text: parse, build the IR, validate it against the schema, check it. */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  const { ok, program: checked, diagnostics } = analyze(source, options);
  if (checked && options.filename !== undefined) {
    checked.source = { file: options.filename, sha256: createHash("sha256").update(source).digest("hex") };
  }
  if (!ok || !checked) return { ok: false, diagnostics, ...(checked ? { checked } : {}) };
  return { ok, program: checked, diagnostics };
}

/**
 * Compiles IR JSON (as `nnc compile` writes it) instead of .nn: JSON syntax (E004), the schema (E005, E006),
 * then the checker, which recomputes every shape and parameter count rather than trusting the input's.
 */
export function compileIR(jsonText: string, options: CompileOptions = {}): CompileResult {
  const file = options.filename ?? "<input>";
  const source = new SourceText(file, jsonText);
  let value: unknown;
  try {
    value = JSON.parse(jsonText);
  } catch (e) {
    const reason = (e as Error).message;
    const at = jsonErrorOffset(jsonText, reason);
    return {
      ok: false,
      diagnostics: finish([diagnostic("E004", { reason }, { span: [at, at + 1] })], false, source),
    };
  }
  const valid = validateIR(value, file);
  if (!valid.program) return { ok: false, diagnostics: finish(valid.diagnostics, false) };
  const result = checkProgram(valid.program);
  // Spans in IR point into the .nn source it was built from, not into this JSON: keep the message, drop them.
  const diags = result.diagnostics.map(({ span: _span, ...d }) => ({ ...d, file }));
  const diagnostics = finish(diags, options.strict);
  const ok = !hasErrors(diagnostics);
  return ok ? { ok, program: result.program, diagnostics } : { ok, diagnostics };
}

/**
 * Where JSON.parse failed. Its message gives "at position N" for some errors (and "line L column C" in newer
 * V8s), but on Node 20 not for an unexpected token: then the error is where the shortest failing prefix ends
 * (a prefix that is merely incomplete fails only with "Unexpected end"), found by bisection.
 */
export function jsonErrorOffset(text: string, message: string): number {
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return Math.min(Number(position), text.length);
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) {
    const start = new SourceText("", text).lineStarts[Number(lineColumn[1]) - 1];
    if (start !== undefined) return Math.min(start + Number(lineColumn[2]) - 1, text.length);
  }
  const failsWithin = (end: number): boolean => {
    const prefix = text.slice(0, end);
    try {
      JSON.parse(prefix);
      return false;
    } catch (e) {
      const m = (e as Error).message;
      if (/Unexpected end of JSON input/.test(m)) return false;
      const at = /at position (\d+)/.exec(m)?.[1];
      return at === undefined || Number(at) < prefix.length;
    }
  };
  if (!failsWithin(text.length)) return text.length;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsWithin(mid)) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(0, lo - 1);
}

/** Byte offset of the first byte that is not valid UTF-8 (or is NUL, which no text spec holds), or -1. */
function firstNonTextByte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    if (b === 0) return i;
    const len =
      b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    // Overlongs, surrogates and code points past U+10FFFF: the fatal decoder below is the arbiter.
    i += len;
  }
  return -1;
}

/**
 * Reads a spec file as text: E001 when it cannot be read, E002 when it is not UTF-8 text. The one way specs are
 * read (compileFile, nnc fmt), so binary files get the same diagnostic everywhere.
 */
export async function readSpecFile(
  path: string,
): Promise<{ text: string; sha256: string } | { diagnostics: Diagnostic[] }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason =
      err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "it is a directory" : err.message;
    return { diagnostics: [diagnostic("E001", { file: path, reason }, { file: path })] };
  }
  const nonText = firstNonTextByte(bytes);
  try {
    if (nonText >= 0) throw new Error("not text");
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return { text, sha256: createHash("sha256").update(bytes).digest("hex") };
  } catch {
    return { diagnostics: [diagnostic("E002", { offset: Math.max(0, nonText) }, { file: path })] };
  }
}

/** Reads and compiles a spec file: `.json` as IR JSON, anything else as .nn source. */
export async function compileFile(
  path: string,
  options: Omit<CompileOptions, "filename"> = {},
): Promise<CompileResult> {
  const read = await readSpecFile(path);
  if ("diagnostics" in read) return { ok: false, diagnostics: read.diagnostics };
  const compileOptions = { ...options, filename: path };
  if (extname(path).toLowerCase() === ".json") {
    return { ...compileIR(read.text, compileOptions), source: read };
  }
  const result = compile(read.text, compileOptions);
  // The program records the hash of the file as stored (a byte-order mark included), as runs always have.
  const program = result.program ?? result.checked;
  if (program?.source) program.source.sha256 = read.sha256;
  return { ...result, source: read };
}
