// Spec fuzz benchmark: thousands of mutated specs through compile() in-process and hundreds through the CLI
// (`node bin/nnc.js check`), with pathological 1 MiB token runs among them, and what it takes: max time, max
// RSS, exceptions (compile() must never throw) and exit-70 runs (the CLI's internal error). Targets: every
// input under 2 s of CPU time and 300 MB, each 1 MiB run through `nnc check` under 1 s and 200 MB (issue 12),
// 0 exceptions, 0 exit 70. Times are CPU times (user + system), so a loaded machine does not skew them. Not a
// test: it prints figures, saves the worst inputs and every failure to a folder for replay, and exits 1 only
// for exceptions, exit 70 or hangs.
//
// Mutations of specs/*.nn and examples/*.nn: tokens deleted, duplicated and swapped, random bytes, huge and
// odd numbers, deep nesting, graph and experiment constructs (blocks, residuals, repeats, huge grids).
// compile() runs in a child process, so a hang is cut off (and counted) instead of stalling the benchmark; each
// 1 MiB input gets a fresh child, so its peak RSS is its own; mutants share a child, replaced every 500 inputs,
// and those during which its peak rose above every own figure are compiled again alone for theirs.
//
// Usage: npm run bench:fuzz-specs [-- --quick] [--compile=10000] [--cli=500] [--seed=1] [--out=DIR]
//        npx tsx bench/fuzz-specs.ts --replay FILE   (compile one saved input in-process, with its figures)
import { spawnSync, fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../src/compile.ts";
import { lex } from "../src/parse/lex.ts";
import { Random } from "../src/util/random.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");
const MiB = 1 << 20;
/** Every input: CPU time beyond the start-up, and peak RSS (CLI: of the process; compile(): of its child). */
const TARGET_MS = 2000;
const TARGET_MB = 300;
/** The 1 MiB runs through `nnc check` (issue 12): CPU time beyond the start-up, and the process's peak RSS. */
const RUN_TARGET_MS = 1000;
const RUN_TARGET_MB = 200;
/** A run longer than this is a hang: the child is killed and the input counted. */
const HANG_MS = 60_000;

// ---- the child: compiles what it is sent

interface Job {
  id: number;
  text: string;
}
interface Outcome {
  id: number;
  ms: number;
  /** CPU time (user + system) of the compile: what the input costs, whatever else the machine runs. */
  cpuMs: number;
  /** The child's peak RSS so far, in MB (a fresh child's is the input's own peak plus the start-up's). */
  maxRssMb: number;
  threw?: string;
  /** ok without a program, or not ok without an error: compile()'s contract broken. */
  inconsistent?: string;
  codes: string[];
}

function compileOne(job: Job): Outcome {
  const start = performance.now();
  const cpu = process.cpuUsage();
  let threw: string | undefined;
  let inconsistent: string | undefined;
  let codes: string[] = [];
  try {
    const result = compile(job.text, { filename: "fuzz.nn" });
    codes = [...new Set(result.diagnostics.map((d) => d.code))].slice(0, 5);
    if (result.ok && !result.program) inconsistent = "ok without a program";
    if (!result.ok && !result.diagnostics.some((d) => d.severity === "error"))
      inconsistent = "not ok, no error";
  } catch (e) {
    threw = e instanceof Error ? (e.stack ?? e.message) : String(e);
  }
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  // resourceUsage().maxRSS is in KiB.
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  return {
    id: job.id,
    ms,
    cpuMs,
    maxRssMb,
    codes,
    ...(threw ? { threw } : {}),
    ...(inconsistent ? { inconsistent } : {}),
  };
}

// ---- inputs

export interface Input {
  name: string;
  /** How it was made, for the report. */
  how: string;
  bytes: Buffer;
  /** A 1 MiB run: compiled in a fresh child, and always run through the CLI too. */
  pathological?: boolean;
}

const HUGE_NUMBERS = [
  "99999999999",
  "1e308",
  "1e400",
  "9007199254740993",
  "4294967296",
  "2147483648",
  "-1",
  "0",
  "-0",
  "1e-400",
  "0.0000001",
  "1e20",
  "99999999999x99999999999",
  "0x0",
  "1x1x1x1x1x1x1x1x1x1",
];

const GRAPH_SNIPPETS = [
  "residual { dense 8 relu }",
  "residual { conv2d 8 3x3 padding=same; shortcut { conv2d 8 1x1 } }",
  "repeat 3 { dense 8 }",
  "repeat 20000 { dense 1 }",
  "repeat 200 { repeat 200 { relu } }",
  "repeat 20000 { repeat 20000 { repeat 20000 { relu } } }",
  "block b(n, s=1) { dense n }\nmodel z {\n input 4\n b 4\n b 8 s=2\n dense 2 softmax\n}",
  "block r(n) { r n }\nmodel z {\n input 4\n r 4\n}",
  "block q() { q; q }\nmodel z {\n input 4\n q\n}",
  "dense 8 name=x\ndense 8 name=y\nadd x y\nconcat x y axis=-1",
  "add nothing here",
  "concat x x x x x x x x",
  "shortcut { relu }",
  "residual { }",
  "repeat 0 { relu }",
  "block basic(filters, stride=1) {\n conv2d filters 3x3 stride=stride padding=same\n}",
  "basic 99999999999 stride=99999999999",
];

const EXPERIMENT_SNIPPETS = [
  "experiment z { repeat 4294967295; vary seed 0 1 }",
  "experiment z { repeat 99999999999 }",
  "experiment z { repeat 100000 }",
  "experiment z { vary batch 1 2 3 4 5 6 7 8 9 10; vary lr 1 2 3 4 5 6 7 8 9 10; vary epochs 1 2 3 4 5 6 7 8 9 10; vary seed 1 2 3 4 5 6 7 8 9 10; repeat 11 }",
  "experiment z { vary epochs 1e300 99999999999; vary batch 99999999999 }",
  "experiment z { vary seed 4294967295; repeat 2 }",
  "experiment z { compare nothing; lr_scale linear ref=99999999999; target 1e-400 }",
];

/** Text pieces that mean something to the grammar, for insertion. */
const PUNCTUATION = [
  "{",
  "}",
  "(",
  ")",
  ",",
  "=",
  ";",
  "\n",
  "#",
  '"',
  "\r\n",
  "\t",
  "\uFEFF",
  "\u00e9",
  "\0",
];

export function specSeeds(): string[] {
  const texts: string[] = [];
  for (const dir of ["specs", "examples"]) {
    const path = join(root, dir);
    if (!existsSync(path)) continue;
    for (const name of readdirSync(path).sort())
      if (name.endsWith(".nn")) texts.push(readFileSync(join(path, name), "utf8"));
  }
  if (texts.length === 0) throw new Error("no specs/*.nn or examples/*.nn to mutate");
  return texts;
}

/** Token spans of a text (the lexer's: values, punctuation, comments, newlines). */
function tokenSpans(text: string): Array<[number, number]> {
  const tokens = lex(text);
  return Array.from({ length: tokens.count }, (_, i) => [tokens.starts[i]!, tokens.ends[i]!]);
}

const splice = (text: string, at: number, remove: number, insert: string) =>
  text.slice(0, at) + insert + text.slice(at + remove);

type Mutation = (text: string, rng: Random) => string | Buffer;

const MUTATIONS: Record<string, Mutation> = {
  "token-delete": (text, rng) => {
    const spans = tokenSpans(text);
    if (spans.length === 0) return text;
    const [s, e] = spans[rng.int(spans.length)]!;
    return splice(text, s, e - s, "");
  },
  "token-duplicate": (text, rng) => {
    const spans = tokenSpans(text);
    if (spans.length === 0) return text;
    const i = rng.int(spans.length);
    const j = Math.min(spans.length - 1, i + rng.int(6));
    const piece = text.slice(spans[i]![0], spans[j]![1]);
    const copies = rng.next() < 0.1 ? 1 + rng.int(200) : 1;
    return splice(text, spans[j]![1], 0, (" " + piece).repeat(copies));
  },
  "token-swap": (text, rng) => {
    const spans = tokenSpans(text);
    if (spans.length < 2) return text;
    let a = spans[rng.int(spans.length)]!;
    let b = spans[rng.int(spans.length)]!;
    if (a[0] > b[0]) [a, b] = [b, a];
    if (a[1] > b[0]) return text;
    return (
      text.slice(0, a[0]) +
      text.slice(b[0], b[1]) +
      text.slice(a[1], b[0]) +
      text.slice(a[0], a[1]) +
      text.slice(b[1])
    );
  },
  punctuation: (text, rng) =>
    splice(text, rng.int(text.length + 1), 0, PUNCTUATION[rng.int(PUNCTUATION.length)]!),
  "random-bytes": (text, rng) => {
    // Raw bytes (invalid UTF-8 among them), as a file on disk may hold.
    const bytes = Buffer.from(text, "utf8");
    const at = rng.int(bytes.length + 1);
    const noise = Buffer.from(Array.from({ length: 1 + rng.int(16) }, () => rng.int(256)));
    return Buffer.concat([bytes.subarray(0, at), noise, bytes.subarray(at)]);
  },
  "huge-number": (text, rng) => {
    const numbers = [...text.matchAll(/\b\d+(?:\.\d+)?(?:x\d+)*\b/g)];
    if (numbers.length === 0) return text;
    const m = numbers[rng.int(numbers.length)]!;
    return splice(text, m.index!, m[0].length, HUGE_NUMBERS[rng.int(HUGE_NUMBERS.length)]!);
  },
  "deep-nesting": (text, rng) => {
    const depth = 1 + rng.int(90);
    const open = ["residual {", "repeat 2 {", "{", "model n {", "shortcut {"][rng.int(5)]!;
    const at = lineStart(text, rng);
    const body = rng.next() < 0.5 ? "dense 8" : "";
    const close = rng.next() < 0.8 ? "}".repeat(depth) : "";
    return splice(text, at, 0, `${`${open} `.repeat(depth)}${body} ${close}\n`);
  },
  graph: (text, rng) =>
    splice(text, lineStart(text, rng), 0, GRAPH_SNIPPETS[rng.int(GRAPH_SNIPPETS.length)]! + "\n"),
  experiment: (text, rng) =>
    splice(text, lineStart(text, rng), 0, EXPERIMENT_SNIPPETS[rng.int(EXPERIMENT_SNIPPETS.length)]! + "\n"),
  "line-shuffle": (text, rng) => {
    const lines = text.split("\n");
    const i = rng.int(lines.length);
    const j = rng.int(lines.length);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    return lines.join("\n");
  },
  truncate: (text, rng) => text.slice(0, rng.int(text.length + 1)),
};

function lineStart(text: string, rng: Random): number {
  const starts = [0, ...[...text.matchAll(/\n/g)].map((m) => m.index! + 1)];
  return starts[rng.int(starts.length)]!;
}

export function mutants(seeds: string[], count: number, rng: Random): Input[] {
  const names = Object.keys(MUTATIONS);
  return Array.from({ length: count }, (_, i) => {
    let current: string | Buffer = seeds[rng.int(seeds.length)]!;
    const applied: string[] = [];
    const steps = 1 + rng.int(4);
    for (let s = 0; s < steps; s++) {
      const name = names[rng.int(names.length)]!;
      // Bytes stay bytes: later mutations see them as the CLI's reader would.
      const text = typeof current === "string" ? current : current.toString("utf8");
      const next: string | Buffer = MUTATIONS[name]!(text, rng);
      current =
        typeof current !== "string" && typeof next === "string" && name === "truncate" ? current : next;
      applied.push(name);
    }
    const bytes = typeof current === "string" ? Buffer.from(current, "utf8") : current;
    return { name: `mutant-${i}`, how: applied.join("+"), bytes };
  });
}

/** 1 MiB runs of one token or a short pattern, alone and inside a valid spec's model. */
export function pathological(seed: string): Input[] {
  const runs: Record<string, string> = {
    newlines: "\n",
    semicolons: ";",
    "open-braces": "{",
    "close-braces": "}",
    hashes: "#",
    xs: "x",
    digits: "1",
    identifier: "a",
    "dense-1": "dense 1;",
    words: "a ",
    "word-semicolon": "a;",
    "word-newline": "a\n",
    equals: "=",
    "equals-newline": "=\n",
    "brace-pairs": "{}",
    "open-parens": "(",
    "close-parens": ")",
    commas: ",",
    quotes: '"',
    options: "a=1 ",
    "dims-x": "1x",
    crlf: "\r\n",
    spaces: " ",
    tabs: "\t",
    accents: "\u00e9",
    "block-definitions": "block b(x) { relu }\n",
    "unclosed-models": "model m {\n",
    "residual-opens": "residual {",
    "close-newline": "}\n",
    "missing-values": "dense 1 =\n",
    "invalid-numbers": "1.2.3 ",
    "not-strings": '"a"b ',
    comments: "# c\n",
    "huge-numbers": "99999999999 ",
    "repeat-blocks": "repeat 2 { relu }\n",
  };
  const out: Input[] = [];
  for (const [name, unit] of Object.entries(runs)) {
    const run = unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);
    out.push({
      name: `run-${name}`,
      how: `1 MiB of ${JSON.stringify(unit)}`,
      bytes: Buffer.from(run),
      pathological: true,
    });
    // The same run inside a model of a valid spec (after its first '{').
    const brace = seed.indexOf("{") + 1;
    out.push({
      name: `in-spec-${name}`,
      how: `1 MiB of ${JSON.stringify(unit)} inside a model`,
      bytes: Buffer.from(seed.slice(0, brace) + "\n" + run + "\n" + seed.slice(brace)),
      pathological: true,
    });
  }
  // A valid 1 MiB spec: 20,000 layers (the most a model may hold), padded to 1 MiB with comments.
  const layers = Array.from({ length: 19_998 }, (_, i) => (i % 2 ? "relu" : "dense 16")).join("\n");
  const valid = `model big {\ninput 28x28\nflatten\n${layers}\ndense 10 softmax\n}\ntrain {\ndata mnist\n}\n`;
  out.push({
    name: "valid-1mib",
    how: "a valid spec of 20,000 layers, padded to 1 MiB with comments",
    bytes: Buffer.from(valid + "# pad\n".repeat(Math.max(0, Math.ceil((MiB - valid.length) / 6)))),
    pathological: true,
  });
  return out;
}

// ---- running

interface Row {
  input: Input;
  ms: number;
  /** CPU time (user + system): of the compile in-process, of the whole process for the CLI. */
  cpuMs: number;
  rssMb: number;
  /** The peak RSS is the input's own: measured in a fresh process (1 MiB runs, re-measured candidates, CLI). */
  own: boolean;
  threw?: string;
  inconsistent?: string;
  hang?: boolean;
  exit?: number | null;
  /**
   * Whether the peak RSS rose during this input. Inputs of the shared child see the peak of all before them:
   * only those where it rose are candidates for the largest.
   */
  rose: boolean;
  signal?: string | null;
  codes: string[];
}

const tsxCli = join(root, "node_modules", "tsx", "dist", "cli.mjs");
const self = fileURLToPath(import.meta.url);

class Child {
  private proc: ChildProcess | undefined;
  private pending: ((o: Outcome | undefined) => void) | undefined;

  private start(): ChildProcess {
    const proc = fork(tsxCli, [self, "--child"], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    proc.on("message", (o: Outcome) => {
      const done = this.pending;
      this.pending = undefined;
      done?.(o);
    });
    proc.on("exit", () => {
      if (this.proc === proc) this.proc = undefined;
      const done = this.pending;
      this.pending = undefined;
      done?.(undefined);
    });
    return proc;
  }

  /** Compiles one input; undefined when the child died or hung (it is then replaced). */
  run(id: number, text: string): Promise<Outcome | "hang" | undefined> {
    const proc = (this.proc ??= this.start());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.proc = undefined;
        proc.kill("SIGKILL");
        resolve("hang");
      }, HANG_MS);
      this.pending = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
      proc.send({ id, text } satisfies Job);
    });
  }

  stop(): void {
    this.proc?.kill();
    this.proc = undefined;
  }
}

/** Inputs one shared child compiles before it is replaced: its peak RSS then holds little of the others'. */
const SHARED_CHILD_INPUTS = 500;
/** At most this many inputs of the shared child are compiled again alone, for their own peak RSS. */
const MAX_REMEASURED = 100;

/** One input compiled in a child of its own: its peak RSS is then its own (plus the child's start-up). */
async function alone(id: number, input: Input): Promise<Outcome | "hang" | undefined> {
  const child = new Child();
  const outcome = await child.run(id, input.bytes.toString("utf8"));
  child.stop();
  return outcome;
}

async function runInProcess(inputs: Input[], progress: (done: number) => void): Promise<Row[]> {
  const rows: Row[] = [];
  let shared = new Child();
  let sharedInputs = 0;
  let sharedPeak = 0;
  for (const [i, input] of inputs.entries()) {
    if (!input.pathological && sharedInputs === SHARED_CHILD_INPUTS) {
      shared.stop();
      shared = new Child();
      sharedInputs = 0;
      sharedPeak = 0;
    }
    // A 1 MiB input gets a child of its own: its peak RSS is then its own.
    const outcome = input.pathological
      ? await alone(i, input)
      : await shared.run(i, input.bytes.toString("utf8"));
    if (!input.pathological) sharedInputs++;
    const failedRow = { input, cpuMs: 0, rssMb: 0, own: false, codes: [], rose: false };
    if (outcome === "hang") rows.push({ ...failedRow, ms: HANG_MS, hang: true });
    else if (!outcome) rows.push({ ...failedRow, ms: 0, threw: "the child process died" });
    else {
      const rose = input.pathological || outcome.maxRssMb > sharedPeak;
      if (!input.pathological) sharedPeak = Math.max(sharedPeak, outcome.maxRssMb);
      rows.push({
        input,
        ms: outcome.ms,
        cpuMs: outcome.cpuMs,
        rssMb: outcome.maxRssMb,
        own: !!input.pathological,
        rose,
        codes: outcome.codes,
        ...(outcome.threw ? { threw: outcome.threw } : {}),
        ...(outcome.inconsistent ? { inconsistent: outcome.inconsistent } : {}),
      });
    }
    progress(i + 1);
  }
  shared.stop();
  // A shared child's peak is the most any input so far needed, with the garbage of up to 500 before it, so it
  // bounds each of those inputs' own peak from above: the inputs during which it rose are compiled again alone,
  // largest first, until the next one's shared peak is below the largest own peak (none left can exceed it).
  const candidates = rows
    .filter((r) => r.rose && !r.own && !r.threw && !r.hang)
    .sort((a, b) => b.rssMb - a.rssMb);
  let largestOwn = Math.max(0, ...rows.filter((r) => r.own).map((r) => r.rssMb));
  for (const row of candidates.slice(0, MAX_REMEASURED)) {
    if (row.rssMb <= largestOwn) break;
    const outcome = await alone(0, row.input);
    if (outcome && outcome !== "hang") {
      Object.assign(row, { rssMb: outcome.maxRssMb, own: true });
      largestOwn = Math.max(largestOwn, outcome.maxRssMb);
    }
  }
  return rows;
}

function runCli(inputs: Input[], dir: string, progress: (done: number) => void): Row[] {
  // Peak RSS of each CLI process, written at its exit by a module loaded before nnc.
  const probe = join(dir, "max-rss.mjs");
  writeFileSync(
    probe,
    'import { writeFileSync } from "node:fs";\n' +
      "process.on('exit', () => { const u = process.resourceUsage();\n" +
      "  writeFileSync(process.env.NNC_FUZZ_RSS, `${u.maxRSS} ${(u.userCPUTime + u.systemCPUTime) / 1000}`); });\n",
  );
  const rssFile = join(dir, "max-rss.txt");
  return inputs.map((input, i) => {
    const file = join(dir, "cli-input.nn");
    writeFileSync(file, input.bytes);
    writeFileSync(rssFile, "0 0");
    const start = performance.now();
    const r = spawnSync(process.execPath, ["--import", probe, join(root, "bin", "nnc.js"), "check", file], {
      cwd: root,
      env: { ...process.env, NNC_FUZZ_RSS: rssFile, NO_COLOR: "1" },
      encoding: "utf8",
      timeout: HANG_MS,
      maxBuffer: 256 * MiB,
    });
    const ms = performance.now() - start;
    progress(i + 1);
    const codes = [...new Set([...(r.stdout + r.stderr).matchAll(/\[([EW]\d{3})\]/g)].map((m) => m[1]!))];
    const [rssKb, cpuMs] = readFileSync(rssFile, "utf8").split(" ").map(Number) as [number, number];
    return {
      input,
      ms,
      cpuMs,
      rssMb: rssKb / 1024,
      own: true,
      exit: r.status,
      signal: r.signal,
      codes: codes.slice(0, 5),
      rose: true,
      ...(r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT" ? { hang: true } : {}),
      ...(r.status === 70 ? { threw: (r.stderr || r.stdout).trim().split("\n").slice(-5).join("\n") } : {}),
    };
  });
}

const TINY = "input 28x28\nflatten\ndense 10 softmax\ntrain {\n  data mnist\n}\n";

interface Startup {
  ms: number;
  cpuMs: number;
  rssMb: number;
}

/** `nnc check` of a tiny valid spec: the start-up every CLI figure includes (median CPU time of three). */
function cliStartup(dir: string): Startup {
  const tiny: Input = { name: "tiny", how: "a tiny valid spec", bytes: Buffer.from(TINY) };
  const rows = [0, 1, 2].map(() => runCli([tiny], dir, () => {})[0]!).sort((a, b) => a.cpuMs - b.cpuMs);
  return { ms: rows[1]!.ms, cpuMs: rows[1]!.cpuMs, rssMb: rows[1]!.rssMb };
}

/** A fresh compile() child on a tiny spec: the RSS every in-process figure includes (its times are 0). */
async function childStartup(): Promise<Startup> {
  const outcome = await alone(0, { name: "tiny", how: "a tiny valid spec", bytes: Buffer.from(TINY) });
  return { ms: 0, cpuMs: 0, rssMb: outcome && outcome !== "hang" ? outcome.maxRssMb : 0 };
}

// ---- reporting

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

function saveInput(dir: string, row: Row, mode: string): string {
  const file = join(dir, `${mode}-${row.input.name}.nn`);
  writeFileSync(file, row.input.bytes);
  return file;
}

function summarize(mode: string, rows: Row[], dir: string, startup: Startup) {
  if (rows.length === 0) return { mode, inputs: 0, failed: 0 };
  const cpuBeyond = (r: Row) => r.cpuMs - startup.cpuMs;
  const over = (r: Row) => cpuBeyond(r) > TARGET_MS || r.rssMb > TARGET_MB;
  const failed = rows.filter((r) => r.threw || r.hang || r.inconsistent || r.exit === 70 || r.signal);
  const byTime = [...rows].sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 8);
  // Own peaks where there are any: a shared child's peak is not one input's (see runInProcess).
  const owned = rows.filter((r) => r.own);
  const byRss = rows
    .filter((r) => r.rose && (r.own || owned.length === 0))
    .sort((a, b) => b.rssMb - a.rssMb)
    .slice(0, 8);
  const max = (f: (r: Row) => number, of = rows) => Math.max(0, ...of.map(f));
  const maxMs = max((r) => r.ms);
  const maxCpu = max((r) => r.cpuMs);
  const maxRss = max((r) => r.rssMb, owned.length > 0 ? owned : rows);
  const unmeasured = rows.filter((r) => !r.own && r.rose && r.rssMb > maxRss).length;
  console.log(
    `\n== ${mode}: ${rows.length} inputs (${rows.filter((r) => r.input.pathological).length} of 1 MiB)`,
  );
  const beyond = startup.cpuMs
    ? ` (${fmt(maxCpu - startup.cpuMs)} beyond the ${fmt(startup.cpuMs)} start-up)`
    : "";
  console.log(`max wall time ${fmt(maxMs)} (depends on the machine's load; the targets use CPU time)`);
  console.log(
    `max CPU time  ${fmt(maxCpu)}${beyond}   target < ${fmt(TARGET_MS)}: ${maxCpu - startup.cpuMs < TARGET_MS ? "met" : "MISSED"}`,
  );
  const base = `${(maxRss - startup.rssMb).toFixed(0)} MB beyond the ${startup.rssMb.toFixed(0)} MB of a tiny spec's run`;
  console.log(
    `max RSS       ${maxRss.toFixed(0)} MB (${base})   target < ${TARGET_MB} MB: ${maxRss < TARGET_MB ? "met" : "MISSED"}`,
  );
  if (unmeasured > 0)
    console.log(`  (${unmeasured} inputs raised a shared child's peak above it and were not compiled alone)`);
  const runs = rows.filter((r) => r.input.pathological && !r.hang);
  let runsMissed = 0;
  if (mode === "cli" && runs.length > 0) {
    const runCpu = max(cpuBeyond, runs);
    const runRss = max((r) => r.rssMb, runs);
    runsMissed = runs.filter((r) => cpuBeyond(r) >= RUN_TARGET_MS || r.rssMb >= RUN_TARGET_MB).length;
    console.log(
      `1 MiB runs: max CPU ${fmt(runCpu)} beyond the start-up (target < ${fmt(RUN_TARGET_MS)}), max RSS ` +
        `${runRss.toFixed(0)} MB (target < ${RUN_TARGET_MB} MB): ${runsMissed === 0 ? "met" : `MISSED by ${runsMissed}`}`,
    );
  }
  const exceptions = rows.filter((r) => r.threw && r.exit === undefined).length;
  const exit70 = rows.filter((r) => r.exit === 70).length;
  console.log(
    mode === "cli"
      ? `exit 70: ${exit70}   killed by a signal: ${rows.filter((r) => r.signal && !r.hang).length}   hangs (> ${fmt(HANG_MS)}): ${rows.filter((r) => r.hang).length}`
      : `exceptions: ${exceptions}   broken contract (ok without program, or not ok without error): ${rows.filter((r) => r.inconsistent).length}   hangs (> ${fmt(HANG_MS)}): ${rows.filter((r) => r.hang).length}`,
  );
  console.log(`inputs over a target: ${rows.filter(over).length}`);
  const show = (title: string, list: Row[]) => {
    console.log(title);
    for (const r of list) {
      const file = saveInput(dir, r, mode);
      const rss = `${r.rssMb.toFixed(0)} MB${r.own ? "" : "*"}`;
      console.log(
        `  ${fmt(r.cpuMs).padStart(9)} ${fmt(r.ms).padStart(9)} ${rss.padStart(8)}  ${r.input.how.slice(0, 60).padEnd(60)} ${r.codes.join(" ")}  ${file}`,
      );
    }
  };
  console.log("  (CPU time, wall time, peak RSS; * = the shared child's peak, not re-measured alone)");
  show("slowest (CPU):", byTime);
  show("largest peak RSS (of the inputs during which it rose):", byRss);
  for (const r of failed) {
    const file = saveInput(dir, r, mode);
    const what = r.hang
      ? "hang"
      : r.exit === 70
        ? "exit 70"
        : r.signal
          ? `signal ${r.signal}`
          : (r.inconsistent ?? "threw");
    console.log(
      `FAILED (${what}): ${r.input.how}: ${file}\n${(r.threw ?? "").split("\n").slice(0, 6).join("\n")}`,
    );
  }
  return {
    mode,
    inputs: rows.length,
    maxMs,
    maxCpuMs: maxCpu,
    maxRssMb: maxRss,
    startup,
    exceptions,
    runsMissed,
    exit70,
    failed: failed.length,
    over: rows.filter(over).length,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const quick = argv.includes("--quick");
  const compileCount = Number(flag("compile") ?? (quick ? 1000 : 10_000));
  const cliCount = Number(flag("cli") ?? (quick ? 60 : 500));
  const rng = new Random(Number(flag("seed") ?? 1));
  const dir = flag("out") ?? mkdtempSync(join(tmpdir(), "nnc-fuzz-specs-"));
  mkdirSync(dir, { recursive: true });

  const seeds = specSeeds();
  // --quick takes a sixth of the 1 MiB runs (each has a child of its own, a second or two each).
  const runs = pathological(seeds[0]!).filter((_, i) => !quick || i % 6 === 0);
  const mutated = mutants(seeds, Math.max(0, compileCount - runs.length), rng);
  const inProcess = [...mutated, ...runs];
  console.log(
    `${seeds.length} seed specs; ${inProcess.length} inputs through compile() (${runs.length} of 1 MiB), ` +
      `${cliCount} through the CLI; saving the worst to ${dir}`,
  );

  const tick = (label: string, total: number) => (done: number) => {
    if (done % Math.max(1, Math.floor(total / 20)) === 0 || done === total)
      process.stderr.write(`\r${label}: ${done}/${total}`);
    if (done === total) process.stderr.write("\n");
  };
  const started = performance.now();
  const childBase = await childStartup();
  const compiled = await runInProcess(inProcess, tick("compile()", inProcess.length));
  // The CLI takes every 1 MiB run it has room for, and mutants spread over the set for the rest.
  const cliRuns = runs.slice(0, cliCount);
  const stride = Math.max(1, Math.floor(mutated.length / Math.max(1, cliCount - cliRuns.length)));
  const cliMutants = mutated.filter((_, i) => i % stride === 0).slice(0, cliCount - cliRuns.length);
  const startup = cliStartup(dir);
  const cli = runCli([...cliMutants, ...cliRuns], dir, tick("nnc check", cliMutants.length + cliRuns.length));

  const results = [summarize("compile", compiled, dir, childBase), summarize("cli", cli, dir, startup)];
  writeFileSync(join(dir, "summary.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(`\n${fmt(performance.now() - started)} in all; inputs and summary.json in ${dir}`);
  console.log(`replay one: npx tsx bench/fuzz-specs.ts --replay FILE   or   node bin/nnc.js check FILE`);
  process.exitCode = results.some((r) => r.failed > 0) ? 1 : 0;
}

// The entry point, last: everything above is initialised by then. Imported (bench/lsp.ts and the language
// server's tests take its inputs), it runs nothing.
const entry = process.argv[1] !== undefined && resolve(process.argv[1]) === self;
if (!entry) {
  // a module: the corpus only
} else if (process.argv.includes("--child")) {
  // A parent that killed us for a hang, or ended, has closed the channel: leave quietly (no EPIPE trace).
  process.on("disconnect", () => process.exit(0));
  process.on("message", (job: Job) => process.send!(compileOne(job), (error) => error && process.exit(0)));
} else if (process.argv.includes("--replay")) {
  const file = process.argv[process.argv.indexOf("--replay") + 1]!;
  const outcome = compileOne({ id: 0, text: readFileSync(file, "utf8") });
  console.log(
    `${file}: ${outcome.ms.toFixed(0)} ms, peak RSS ${outcome.maxRssMb.toFixed(0)} MB, codes ${outcome.codes.join(" ")}`,
  );
  if (outcome.threw) console.log(`threw: ${outcome.threw}`);
} else {
  await main();
}
