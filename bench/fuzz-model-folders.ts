// Fuzz benchmark for model folders and checkpoints as untrusted data (docs/security.md): mutates a real tiny
// run folder (model.json, weights.bin, ir.json, checkpoint.ckpt, links, FIFOs, directories, sizes) N times and
// loads each mutant through the API (load, readCheckpoint) and the CLI (eval, predict, train --resume), with a
// spy on every file the process opens. Prints the cases, the slowest case, the peak RSS, the count of internal
// errors (exit 70, or an API exception that is not an NncError) and the count of cases that opened a file
// outside their folder; the goal is 0 and 0. A benchmark, not a test: it prints figures and asserts nothing.
// Usage: npm run bench:fuzz-folders [-- --cases=1000] [--seed=1] [--verbose]
import { execFileSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { load } from "../src/api.ts";
import { NncError } from "../src/diagnostics/diagnostic.ts";
import { readCheckpoint, type Fingerprint } from "../src/save/index.ts";
import { Random } from "../src/util/random.ts";
import {
  copyRun,
  joinCheckpoint,
  nnc,
  outsideOpens,
  splitCheckpoint,
  spyOnOpens,
  tinyCsv,
  trainTinyRun,
} from "../test/save/hostile-folders.ts";

const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const CASES = Number(flag("cases") ?? 1000);
const rng = new Random(Number(flag("seed") ?? 1));
const verbose = argv.includes("--verbose");

const root = mkdtempSync(join(tmpdir(), "nnc-fuzz-folders-"));
process.on("exit", () => rmSync(root, { recursive: true, force: true }));
const base = await trainTinyRun(join(root, "base"));
mkdirSync(join(root, "cases"));
/** Files outside every case folder: the secret must never be opened; the others the user names explicitly. */
const secret = join(root, "secret.bin");
writeFileSync(secret, Buffer.alloc(statSync(join(base.out, "weights.bin")).size, 0x41));
const theirData = join(root, "their.csv");
writeFileSync(theirData, tinyCsv(24));
const samples = join(root, "samples.json");
writeFileSync(
  samples,
  JSON.stringify([
    [1, 2, 3, 4],
    [0, 0, 0, 0],
  ]),
);
const fingerprint: Fingerprint = splitCheckpoint(readFileSync(join(base.out, "checkpoint.ckpt"))).header
  .fingerprint;

const pick = <T>(items: readonly T[]): T => items[rng.int(items.length)]!;

// ---- mutations

/** Values an attacker or a damaged file puts where nnc expects something else. */
const HOSTILE: unknown[] = [
  "../../secret.bin",
  secret,
  "/dev/zero",
  "/etc/passwd",
  "weights.bin",
  "model.json",
  "",
  ".",
  "..",
  "a/b",
  "C:weights.bin",
  "\u0000",
  "\u001b[31mred",
  "x".repeat(5000),
  null,
  0,
  -1,
  1.5,
  1e300,
  -1e300,
  2 ** 31,
  true,
  [],
  {},
  [1, null],
  ["weights.bin", "weights.bin"],
  Array(2000).fill("weights.bin"),
  [65536, 65536],
  [-1],
  [2 ** 31, 2 ** 31],
  JSON.parse('{"__proto__": {"polluted": 1}}'),
  "csv:/etc/passwd",
  `csv:${secret}`,
  "csv:../../secret.bin",
  "idx:/dev",
  "mnist",
  "fashion-mnist",
];

/** Every place in a JSON document, as a path of keys. */
function places(doc: unknown, path: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(path);
  if (Array.isArray(doc)) doc.forEach((v, i) => places(v, [...path, i], out));
  else if (doc && typeof doc === "object")
    for (const [k, v] of Object.entries(doc)) places(v, [...path, k], out);
  return out;
}

/** One random change to a JSON document: a hostile value somewhere, a deletion, or an extra key. */
function mutateJson(doc: any): { doc: any; what: string } {
  const all = places(doc).filter((p) => p.length > 0);
  const path = pick(all);
  const parent = path.slice(0, -1).reduce((d, k) => d[k], doc);
  const key = path.at(-1)!;
  const r = rng.next();
  if (r < 0.7) {
    const value = pick(HOSTILE);
    parent[key] = value;
    return { doc, what: `${path.join(".")} = ${JSON.stringify(value)?.slice(0, 40)}` };
  }
  if (r < 0.85) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
    return { doc, what: `delete ${path.join(".")}` };
  }
  if (Array.isArray(parent)) {
    parent.push(parent[Number(key)]);
    return { doc, what: `repeat ${path.join(".")}` };
  }
  parent.surprise = pick(HOSTILE);
  return { doc, what: `add ${path.slice(0, -1).join(".")}.surprise` };
}

/** Bytes changed at random: flipped, cut short, or grown with garbage. */
function mutateBytes(bytes: Buffer): { bytes: Buffer; what: string } {
  const r = rng.next();
  if (r < 0.4) {
    const out = Buffer.from(bytes);
    const n = 1 + rng.int(8);
    for (let i = 0; i < n; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return { bytes: out, what: `${n} bits flipped` };
  }
  if (r < 0.7) {
    const length = rng.int(bytes.length);
    return { bytes: bytes.subarray(0, length), what: `cut to ${length} bytes` };
  }
  const extra = Buffer.alloc(1 + rng.int(64));
  for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
  return { bytes: Buffer.concat([bytes, extra]), what: `${extra.length} bytes appended` };
}

/**
 * The content of a file of the case, unless an earlier mutation replaced it by something other than the run's
 * own small file (a 3 GiB sparse file, a FIFO, a directory): reading that would measure this script, not nnc.
 */
function ownFile(file: string): Buffer {
  const stats = lstatSync(file);
  if (!stats.isFile() || stats.size > 1024 ** 2) throw new Error(`${file} is no longer the run's own file`);
  return readFileSync(file);
}

const jsonFile = (dir: string, name: string): string => {
  const file = join(dir, name);
  const { doc, what } = mutateJson(JSON.parse(ownFile(file).toString("utf8")));
  writeFileSync(file, JSON.stringify(doc));
  return `${name}: ${what}`;
};

const bytesFile = (dir: string, name: string): string => {
  const file = join(dir, name);
  const { bytes, what } = mutateBytes(ownFile(file));
  writeFileSync(file, bytes);
  return `${name}: ${what}`;
};

/** Replaces a file of the folder by something that is not its content. */
function replaceFile(dir: string, name: string): string {
  const file = join(dir, name);
  rmSync(file, { recursive: true, force: true });
  const r = rng.int(9);
  switch (r) {
    case 0:
      mkdirSync(file);
      return `${name}: a directory`;
    case 1:
      symlinkSync(secret, file);
      return `${name}: a link to a file outside`;
    case 2:
      symlinkSync("/dev/zero", file);
      return `${name}: a link to /dev/zero`;
    case 3:
      symlinkSync("../../secret.bin", file);
      return `${name}: a relative link out`;
    case 4:
      symlinkSync(join(root, "nowhere"), file);
      return `${name}: a dangling link`;
    case 5:
      execFileSync("mkfifo", [file]);
      return `${name}: a FIFO`;
    case 6: {
      writeFileSync(file, "");
      truncateSync(file, 3 * 1024 ** 3);
      return `${name}: 3 GiB (sparse)`;
    }
    case 7: {
      const other = name === "weights.bin" ? "model.json" : "weights.bin";
      symlinkSync(other, file);
      return `${name}: a link to ${other} inside`;
    }
    default:
      writeFileSync(file, "");
      return `${name}: empty`;
  }
}

/** NaN, or random float32 bits, as weights. */
function garbageWeights(dir: string): string {
  const file = join(dir, "weights.bin");
  const bytes = Buffer.alloc(ownFile(file).byteLength);
  const nan = rng.next() < 0.5;
  for (let i = 0; i < bytes.length; i++) bytes[i] = nan ? 0xff : rng.int(256);
  writeFileSync(file, bytes);
  return `weights.bin: ${nan ? "all NaN" : "random bytes"}`;
}

function checkpointHeader(dir: string): string {
  const file = join(dir, "checkpoint.ckpt");
  const { header, rest } = splitCheckpoint(ownFile(file));
  const { doc, what } = mutateJson(header);
  writeFileSync(file, joinCheckpoint(doc, rest));
  return `checkpoint header (checksum kept): ${what}`;
}

/** The blob changed and its checksum recomputed: a whole, consistent file of other numbers. */
function checkpointBlob(dir: string): string {
  const file = join(dir, "checkpoint.ckpt");
  const { header, rest } = splitCheckpoint(ownFile(file));
  const { bytes, what } = mutateBytes(rest);
  header.blobSha256 = createHash("sha256").update(bytes).digest("hex");
  writeFileSync(file, joinCheckpoint(header, bytes));
  return `checkpoint blob (checksum recomputed): ${what}`;
}

function lockFile(dir: string): string {
  rmSync(join(dir, "ir.json"));
  const lock = join(dir, ".nnc.lock");
  const r = rng.int(3);
  if (r === 0) symlinkSync(secret, lock);
  else if (r === 1) execFileSync("mkfifo", [lock]);
  else
    writeFileSync(lock, JSON.stringify({ pid: pick(HOSTILE), host: pick(HOSTILE), command: pick(HOSTILE) }));
  return `no ir.json, .nnc.lock ${["a link out", "a FIFO", "hostile JSON"][r]}`;
}

const MUTATIONS: Array<[weight: number, touchesCheckpoint: boolean, (dir: string) => string]> = [
  [3, false, (d) => jsonFile(d, "model.json")],
  [1, false, (d) => bytesFile(d, "model.json")],
  [2, false, (d) => bytesFile(d, "weights.bin")],
  [1, false, garbageWeights],
  [3, false, (d) => jsonFile(d, "ir.json")],
  [1, false, (d) => bytesFile(d, "ir.json")],
  [2, false, (d) => replaceFile(d, pick(["weights.bin", "model.json", "ir.json"]))],
  [3, true, checkpointHeader],
  [1, true, checkpointBlob],
  [1, true, (d) => bytesFile(d, "checkpoint.ckpt")],
  [1, true, (d) => replaceFile(d, "checkpoint.ckpt")],
  [1, false, lockFile],
];
const totalWeight = MUTATIONS.reduce((n, [w]) => n + w, 0);
function pickMutation() {
  let r = rng.next() * totalWeight;
  for (const m of MUTATIONS) if ((r -= m[0]) < 0) return m;
  return MUTATIONS[0]!;
}

// ---- running a case

interface Outcome {
  what: string;
  ms: number;
  internal: string[];
  outside: string[];
  codes: string[];
}

/** An API call: fine, or an NncError (its code); anything else is an internal error. */
async function api(name: string, action: () => unknown, out: Outcome): Promise<void> {
  try {
    const result = await action();
    (result as { dispose?: () => void } | undefined)?.dispose?.();
    out.codes.push(`${name}:ok`);
  } catch (e) {
    if (e instanceof NncError) out.codes.push(`${name}:${e.diagnostic.code}`);
    else out.internal.push(`${name}: ${(e as Error)?.stack ?? String(e)}`);
  }
}

async function cli(argv: string[], out: Outcome): Promise<void> {
  const r = await nnc(...argv);
  const code = /error\[(E\d+)\]/.exec(r.stderr)?.[1];
  out.codes.push(`${argv[0]}:${r.code === 0 ? "ok" : (code ?? r.code)}`);
  if (r.code === 70) out.internal.push(`nnc ${argv.join(" ")}: ${r.stderr.trim()}`);
}

async function runCase(index: number): Promise<Outcome> {
  const dir = copyRun(base.out, join(root, "cases", `case-${index}`));
  const changes = 1 + (rng.next() < 0.25 ? 1 + rng.int(2) : 0);
  const applied: string[] = [];
  let checkpoint = false;
  for (let i = 0; i < changes; i++) {
    const [, touches, mutate] = pickMutation();
    try {
      applied.push(mutate(dir));
      checkpoint ||= touches;
    } catch {
      // a mutation that no longer applies (its file was replaced by an earlier one): skip it
    }
  }
  const out: Outcome = { what: applied.join("; "), ms: 0, internal: [], outside: [], codes: [] };
  const spy = spyOnOpens();
  const began = performance.now();
  try {
    if (checkpoint) {
      await api("readCheckpoint", () => readCheckpoint(dir, fingerprint), out);
      if (rng.next() < 0.3) {
        await cli(
          [
            "train",
            base.spec,
            "--out",
            dir,
            "--resume",
            "--epochs",
            "2",
            "--backend",
            "cpu",
            "--threads",
            "1",
          ],
          out,
        );
      }
    } else {
      await api("load", () => load(dir, { backend: "cpu", onWarning: () => {} }), out);
      const command = pick([
        ["eval", dir, "--backend", "cpu"],
        ["eval", dir, "--backend", "cpu", "--data", `csv:${theirData}`],
        ["predict", dir, "--backend", "cpu", "--input", samples],
        ["predict", dir, "--backend", "cpu"],
      ]);
      await cli(command, out);
    }
  } finally {
    out.ms = performance.now() - began;
    spy.stop();
  }
  out.outside = outsideOpens(spy.opened, [dir, base.spec, base.data, theirData, samples]);
  rmSync(dir, { recursive: true, force: true });
  return out;
}

// ---- the run

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;

const started = performance.now();
let slowest: Outcome | undefined;
let maxCaseRss = 0;
const internal: Outcome[] = [];
const outside: Outcome[] = [];
const codes = new Map<string, number>();
for (let i = 1; i <= CASES; i++) {
  const o = await runCase(i);
  if (!slowest || o.ms > slowest.ms) slowest = o;
  maxCaseRss = Math.max(maxCaseRss, process.memoryUsage().rss);
  if (o.internal.length > 0) internal.push(o);
  if (o.outside.length > 0) outside.push(o);
  for (const c of o.codes) codes.set(c, (codes.get(c) ?? 0) + 1);
  if (verbose) {
    const rss = `${mb(process.memoryUsage().rss)} (peak ${mb(process.resourceUsage().maxRSS * 1024)})`;
    console.log(`#${i} ${o.ms.toFixed(0)} ms ${rss}  ${o.codes.join(" ")}  ${o.what}`);
  } else if (i % 100 === 0) process.stderr.write(`${i}/${CASES}\n`);
}
const seconds = (performance.now() - started) / 1000;
const peakRss = process.resourceUsage().maxRSS * 1024;

console.log(
  `\nmodel-folder fuzz: ${CASES} mutated folders and checkpoints (seed ${rng.seed}), ${seconds.toFixed(1)} s`,
);
console.log(`max time per case   ${slowest!.ms.toFixed(0)} ms  (${slowest!.what})`);
console.log(`max RSS             ${mb(peakRss)} peak (process), ${mb(maxCaseRss)} after a case`);
console.log(`internal errors     ${internal.length}  (exit 70, or an API exception that is not an NncError)`);
console.log(`outside reads       ${outside.length}  (cases that opened a file outside their folder)`);
const byCode = [...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`);
console.log(`outcomes            ${byCode.join(", ")}`);
for (const o of [...internal, ...outside].slice(0, 10)) {
  console.log(`\n  ${o.what}\n    ${[...o.internal, ...o.outside.map((p) => `opened ${p}`)].join("\n    ")}`);
}
// Leftover case folders would mean a case failed to clean up; the root goes on exit.
if (readdirSync(join(root, "cases")).length > 0) console.log("(some case folders were left behind)");
