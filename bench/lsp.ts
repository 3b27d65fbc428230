// Language server benchmark: what a keystroke costs. On a generated 1,000-layer spec (bench/compile.ts), the
// time from a keystroke (didChange) to its diagnostics (publishDiagnostics), for keystrokes after a pause (the
// server answers at once) and at the end of a burst of fast typing (it analyses at most once per debounceMs);
// hover, completion and inlay hints; the same through a spawned `nnc lsp --stdio`; then the fuzz corpus of
// bench/fuzz-specs.ts through every request, 1 MiB runs included (nothing may fail); and, last, the CLI's
// start-up (`nnc --help`, `nnc check specs/mnist-bn.nn`). Target: a keystroke answered in under 50 ms.
// Prints figures; exits 1 only when a request fails or the server logs an internal error.
//
// Usage: npx tsx bench/lsp.ts [--keys=40] [--fuzz=1000] [--quick]  (--quick: 300 mutants, no 1 MiB runs)
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { generateModel } from "./compile.ts";
import { compile } from "../src/compile.ts";
import { mutants, pathological, specSeeds, type Input } from "./fuzz-specs.ts";
import { Random } from "../src/util/random.ts";
import { inProcess, positionOf, repoRoot, spawned, uriOf, type Client } from "../test/lsp/client.ts";

const arg = (name: string, dflt: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : dflt;
};
const quick = process.argv.includes("--quick");
const KEYS = arg("keys", 40);
const FUZZ = arg("fuzz", quick ? 300 : 1000);
/** A pause before a keystroke: longer than the server's debounce (150 ms), as between words. */
const PAUSE = 200;

const ms = (x: number) => `${x.toFixed(1)} ms`;
function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${ms(q(0.5))}, p90 ${ms(q(0.9))}, max ${ms(s[s.length - 1]!)} (${s.length} runs)`;
}

/** Keystrokes after a pause: each a one-character edit on a layer line, then its diagnostics. */
async function keystrokes(
  client: Client,
  uri: string,
  text: string,
  count: number,
  rng: Random,
  pauseMs = 0,
): Promise<number[]> {
  const lines = text.split("\n");
  const times: number[] = [];
  let current = text;
  for (let k = 0; k < count; k++) {
    // Retype a digit of a number somewhere in the model: `dropout 0.1` -> `dropout 0.2`, `conv2d 8` -> `conv2d 9`.
    let line: number;
    do line = 1 + rng.int(lines.length - 8);
    while (!/\d/.test(lines[line]!));
    const character = lines[line]!.search(/\d(?!.*\d)/);
    const old = lines[line]![character]!;
    const digit = old === "9" ? "8" : String(Number(old) + 1);
    lines[line] = lines[line]!.slice(0, character) + digit + lines[line]!.slice(character + 1);
    current = lines.join("\n");
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    const start = performance.now();
    const version = await client.edit(uri, digit, {
      start: { line, character },
      end: { line, character: character + 1 },
    });
    await client.diagnostics(uri, version);
    times.push(performance.now() - start);
  }
  void current;
  return times;
}

/** A burst of `count` keystrokes `gap` ms apart: from the last one to its diagnostics, and how many were published. */
async function burst(
  client: Client,
  uri: string,
  lastLine: number,
  count: number,
  gap: number,
): Promise<{ last: number; published: number }> {
  const before = client.publications;
  let version = 0;
  let sentLast = 0;
  for (let k = 0; k < count; k++) {
    // Type and erase a comment at the end of the file.
    const text = k % 2 === 0 ? "#" : "";
    const line = lastLine;
    version = await client.edit(uri, text, {
      start: { line, character: 0 },
      end: { line, character: k % 2 === 0 ? 0 : 1 },
    });
    sentLast = performance.now();
    if (k < count - 1) await new Promise((r) => setTimeout(r, gap));
  }
  await client.diagnostics(uri, version);
  const last = performance.now() - sentLast;
  return { last, published: client.publications - before };
}

async function requestTimes(client: Client, uri: string, text: string, rng: Random) {
  const lines = text.split("\n");
  const hover: number[] = [];
  const completion: number[] = [];
  const hints: number[] = [];
  for (let k = 0; k < 20; k++) {
    const line = 1 + rng.int(lines.length - 8);
    let t = performance.now();
    await client.hover(uri, { line, character: 1 });
    hover.push(performance.now() - t);
    t = performance.now();
    await client.completion(uri, { line, character: lines[line]!.length });
    completion.push(performance.now() - t);
    t = performance.now();
    await client.inlayHints(uri, {
      start: { line: Math.max(0, line - 30), character: 0 },
      end: { line: line + 30, character: 0 },
    });
    hints.push(performance.now() - t);
  }
  return { hover, completion, hints };
}

async function fuzz(
  inputs: Input[],
): Promise<{ failures: string[]; slowest: { name: string; ms: number }[]; total: number }> {
  const client = inProcess({ debounceMs: 0 });
  await client.initialize();
  const rng = new Random(3);
  const failures: string[] = [];
  const times: { name: string; ms: number }[] = [];
  let done = 0;
  for (const input of inputs) {
    const text = input.bytes.toString("utf8");
    const uri = uriOf(`/tmp/nnc-lsp-bench/${input.name}.nn`);
    const start = performance.now();
    const diags = await client.open(uri, text);
    if (diags.some((d) => d.code === "E700"))
      failures.push(`${input.name} (${input.how}): E700 ${diags[0]!.message}`);
    const lines = text.split("\n");
    const whole = { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } };
    const requests: Promise<unknown>[] = [
      client.symbols(uri),
      client.inlayHints(uri, whole),
      client.codeActions(uri, whole, diags),
      client.formatting(uri),
    ];
    for (let k = 0; k < 3; k++) {
      const line = rng.int(lines.length);
      const position = { line, character: rng.int(Math.min(lines[line]!.length, 10_000) + 1) };
      requests.push(
        client.hover(uri, position),
        client.completion(uri, position),
        client.definition(uri, position),
      );
    }
    for (const s of await Promise.allSettled(requests)) {
      if (s.status === "rejected") failures.push(`${input.name} (${input.how}): ${String(s.reason)}`);
    }
    await client.close(uri);
    times.push({ name: `${input.name} (${input.how})`, ms: performance.now() - start });
    if (++done % 100 === 0) process.stderr.write(`  fuzz: ${done}/${inputs.length}\r`);
  }
  failures.push(...client.logs.filter((l) => l.startsWith("nnc lsp:")));
  await client.stop();
  times.sort((a, b) => b.ms - a.ms);
  return { failures, slowest: times.slice(0, 3), total: times.length };
}

function wall(args: string[], runs = 5): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const r = spawnSync(process.execPath, [join(repoRoot, "bin", "nnc.js"), ...args], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    times.push(performance.now() - start);
    if (r.status !== 0) throw new Error(`nnc ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[runs >> 1]!;
}

async function main() {
  const text = generateModel(1000);
  const rng = new Random(1);
  const uri = uriOf(join(repoRoot, "bench", "lsp-1000-layers.nn"));
  console.log(
    `language server on a ${text.split("\n").length}-line spec of 1,000 layers (${text.length} chars), in process:`,
  );
  const client = inProcess();
  await client.initialize();
  let start = performance.now();
  const first = await client.open(uri, text);
  console.log(`  open -> first diagnostics: ${ms(performance.now() - start)} (${first.length} diagnostics)`);
  // Warm-up: the first analyses compile the JIT's code paths.
  await keystrokes(client, uri, text, 5, rng);
  const keys = await keystrokes(client, uri, text, KEYS, rng, PAUSE);
  console.log(`  keystroke -> diagnostics, after a pause (${PAUSE} ms): ${stats(keys)}`);
  const typing = await keystrokes(client, uri, text, KEYS, rng);
  console.log(`  keystroke -> diagnostics, each typed as soon as the last was answered: ${stats(typing)}`);
  // The compiler alone on the same text, now: what of the above is compile() and what the server adds.
  const alone = Array.from({ length: 9 }, () => {
    const t = performance.now();
    compile(text, { filename: "lsp-1000-layers.nn" });
    return performance.now() - t;
  });
  console.log(`  compile() alone on the same spec, at the same time: ${stats(alone)}`);
  const r = await requestTimes(client, uri, text, rng);
  console.log(`  hover: ${stats(r.hover)}`);
  console.log(`  completion: ${stats(r.completion)}`);
  console.log(`  inlay hints (60 lines): ${stats(r.hints)}`);
  await client.stop();

  const spawn = spawned();
  start = performance.now();
  await spawn.client.initialize();
  console.log(`spawned nnc lsp --stdio: start -> initialize answered ${ms(performance.now() - start)}`);
  await spawn.client.open(uri, text);
  await keystrokes(spawn.client, uri, text, 5, rng);
  console.log(
    `  keystroke -> diagnostics, after a pause (${PAUSE} ms): ${stats(await keystrokes(spawn.client, uri, text, Math.min(KEYS, 20), rng, PAUSE))}`,
  );
  // A separate process, as in an editor: keystrokes arrive while it analyses.
  const b = await burst(spawn.client, uri, text.split("\n").length - 1, 20, 30);
  console.log(
    `  a burst of 20 keystrokes 30 ms apart: last keystroke -> diagnostics ${ms(b.last)}, ${b.published} publications (debounce 150 ms)`,
  );
  await spawn.client.stop();

  const seeds = specSeeds();
  const inputs = [...mutants(seeds, FUZZ, new Random(11)), ...(quick ? [] : pathological(seeds[0]!))];
  start = performance.now();
  const f = await fuzz(inputs);
  console.log(
    `fuzz corpus: ${f.total} inputs (${FUZZ} mutants${quick ? "" : ", 1 MiB runs"}) opened and asked everything in ` +
      `${((performance.now() - start) / 1000).toFixed(1)} s; ${f.failures.length} failures; slowest: ` +
      f.slowest.map((s) => `${s.name} ${ms(s.ms)}`).join("; "),
  );
  for (const failure of f.failures.slice(0, 20)) console.log(`  FAILED ${failure}`);

  console.log(
    `CLI start-up (median of 5, wall): nnc --help ${ms(wall(["--help"]))}, ` +
      `nnc check specs/mnist-bn.nn ${ms(wall(["check", "specs/mnist-bn.nn"]))}`,
  );
  process.exitCode = f.failures.length > 0 ? 1 : 0;
}

await main();
