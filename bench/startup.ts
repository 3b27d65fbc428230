// `npm run bench:startup`: how long nnc takes to start, as a user sees it (wall time of the whole process).
//  - `nnc --help`, `nnc check specs/mnist-bn.nn`, and `nnc train specs/mnist-bn.nn`'s time to its first training
//    step (from its --timings report), each run the ways nnc can be started: bin/nnc.js in this checkout (its
//    esbuild bundle, scripts/cli-bundle.js), the sources through tsx as bin/nnc.js ran them before the bundle,
//    and dist/ as an installed package runs it (where `npm run build` made one);
//  - the whole process of `nnc train` for one Fashion-MNIST epoch at batch 32 (the notebook's BN MLP), with its
//    --timings breakdown, against the tfjs-layers `model.fit` peer doing the same (bench/peers/fit-process.ts).
// The machine is shared: each figure is the median of --runs runs (default 5) with the fastest beside it, and
// the load average is printed. Usage: npm run bench:startup [-- --runs=N] [--no-whole]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fashionMnistInstalled } from "../src/data/index.ts";

const argv = process.argv.slice(2);
const runs = Number(argv.find((a) => a.startsWith("--runs="))?.split("=")[1] ?? 5);
const whole = !argv.includes("--no-whole");
const root = fileURLToPath(new URL("..", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "nnc-bench-startup-"));

/** How nnc is started: a node command line before nnc's own arguments. */
interface Way {
  name: string;
  argv: string[];
}
/** An ES module run by `node --input-type=module -e`: nnc's run() on the arguments after its `--`. */
const runFrom = (setup: string, main: string): string[] => [
  "--input-type=module",
  "-e",
  `${setup}const cli = await import(${JSON.stringify(pathToFileURL(main).href)});` +
    "process.exitCode = await cli.run(process.argv.slice(1));",
  "--",
];
const ways: Way[] = [
  { name: "bin/nnc.js (bundle)", argv: [join(root, "bin", "nnc.js")] },
  {
    name: "sources via tsx (before)",
    argv: runFrom(
      'const { register } = await import("tsx/esm/api"); register();',
      join(root, "src", "cli", "main.ts"),
    ),
  },
];
const dist = join(root, "dist", "src", "cli", "main.js");
if (existsSync(dist)) ways.push({ name: "dist/ (installed)", argv: runFrom("", dist) });

interface Run {
  seconds: number;
  /** CPU seconds (user + system) of the process and its children: what contention does not stretch. */
  cpu: number;
  stdout: string;
  stderr: string;
  status: number | null;
}
/** CPU seconds of this process's waited-for children so far (Linux: cutime + cstime of /proc/self/stat). */
function childrenCpu(): number {
  if (!existsSync("/proc/self/stat")) return NaN;
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100; // clock ticks of 1/100 s
}
function spawn(args: string[]): Run {
  const cpu = childrenCpu();
  const began = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return {
    seconds: (performance.now() - began) / 1000,
    cpu: childrenCpu() - cpu,
    stdout: r.stdout,
    stderr: r.stderr,
    status: r.status,
  };
}
function mustSucceed(r: Run, what: string): Run {
  if (r.status !== 0)
    throw new Error(`${what} exited ${r.status}:\n${r.stderr.split("\n").slice(-8).join("\n")}`);
  return r;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const cell = (xs: number[], cpu: number[]) =>
  `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}) cpu ${median(cpu).toFixed(2)}`;

/** The first step's end from `--timings`, in seconds since the process started. */
const firstStep = (stderr: string): number => {
  const m = /the first step ended ([\d.]+) s after the process started/.exec(stderr);
  if (!m) throw new Error(`no first-step time in:\n${stderr}`);
  return Number(m[1]);
};

const cases: Array<{ name: string; args: string[]; figure: (r: Run) => number }> = [
  { name: "nnc --help", args: ["--help"], figure: (r) => r.seconds },
  { name: "nnc check specs/mnist-bn.nn", args: ["check", "specs/mnist-bn.nn"], figure: (r) => r.seconds },
  {
    name: "nnc train specs/mnist-bn.nn: first step",
    args: [
      "train",
      "specs/mnist-bn.nn",
      "--epochs",
      "1",
      "--limit",
      "2048",
      "--out",
      join(tmp, "run"),
      "--force",
    ],
    figure: (r) => firstStep(r.stderr),
  },
];

try {
  // Warm: the bundle is built if the sources changed, tsx's transform cache filled, the OS's file cache too.
  for (const way of ways) mustSucceed(spawn([...way.argv, "--version"]), `${way.name} --version`);
  const load = loadavg()[0]!.toFixed(1);
  console.log(
    `Start-up, wall time in seconds: median of ${runs} runs (fastest in parentheses) and the median CPU time ` +
      `(user + system); load average ${load} on ${root}`,
  );
  const width = 44;
  console.log("".padEnd(width) + ways.map((w) => w.name.padStart(32)).join(""));
  for (const c of cases) {
    const figures = ways.map((way) => {
      const xs: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < runs; i++) {
        const args = c.name.includes("train") ? [...c.args, "--timings"] : c.args;
        const r = mustSucceed(spawn([...way.argv, ...args]), `${way.name} ${c.name}`);
        xs.push(c.figure(r));
        cpu.push(r.cpu);
      }
      return cell(xs, cpu);
    });
    console.log(c.name.padEnd(width) + figures.map((f) => f.padStart(32)).join(""));
  }
  console.log(
    "(train: one epoch of --limit 2048 on the embedded mnist with --timings; the figure is its report's " +
      "first step, measured from the process's start; its CPU time is the whole run's)",
  );

  if (whole) wholeProcess();
  console.log(`load average at the end ${loadavg()[0]!.toFixed(1)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** One Fashion-MNIST epoch at batch 32 of the BN MLP, nnc train against the fit peer, whole processes. */
function wholeProcess(): void {
  if (!fashionMnistInstalled()) {
    console.log(
      "\nWhole process skipped: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
    );
    return;
  }
  const spec = join(tmp, "bn-mlp.nn");
  // The notebook's BN MLP, as bench/peers/models.ts has it, with the train settings of the comparison.
  writeFileSync(
    spec,
    "input 28x28\nflatten\ndense 128\nbatchnorm\nrelu\ndense 64\nbatchnorm\nrelu\ndense 10 softmax\n\n" +
      "train {\n  data fashion-mnist\n  optimizer adam lr=0.001\n  batch 32\n  epochs 1\n}\n",
  );
  const nnc = mustSucceed(
    spawn([
      join(root, "bin", "nnc.js"),
      "train",
      spec,
      "--out",
      join(tmp, "nnc-run"),
      "--force",
      "--timings",
    ]),
    "nnc train",
  );
  const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
  const fit = mustSucceed(
    spawn([
      tsx,
      join(root, "bench", "peers", "fit-process.ts"),
      "bn-mlp",
      "32",
      "fashion-mnist",
      "1",
      join(tmp, "fit"),
    ]),
    "the fit peer",
  );
  const peer = JSON.parse(fit.stdout.trim().split("\n").at(-1)!) as {
    phases: Record<string, number>;
    valAccuracy: number;
  };
  const accuracy = /test accuracy ([\d.]+)%/.exec(nnc.stderr)?.[1];
  console.log(
    "\nWhole process: one Fashion-MNIST epoch (60,000 samples) at batch 32, the BN MLP, adam lr=0.001, wasm; " +
      "evaluation on the 10,000 test images; the model saved",
  );
  console.log(`  nnc train (bin/nnc.js)   ${nnc.seconds.toFixed(2)} s   test accuracy ${accuracy}%`);
  console.log(
    nnc.stderr
      .slice(nnc.stderr.indexOf("timings"))
      .trimEnd()
      .split("\n")
      .map((line) => `    ${line}`)
      .join("\n"),
  );
  console.log(
    `  tfjs-layers fit peer     ${fit.seconds.toFixed(2)} s   test accuracy ${(peer.valAccuracy * 100).toFixed(2)}%` +
      `   (${Object.entries(peer.phases)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(", ")}; run through tsx)`,
  );
  console.log(
    `  nnc is ${(fit.seconds / nnc.seconds).toFixed(2)}x faster, whole process against whole process`,
  );
}
