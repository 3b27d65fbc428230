// `npm run bench`: training throughput of nnc against tfjs-layers `model.fit` (same backend, same data) and
// PyTorch CPU, for the notebook's BN MLP, the MLP without batch norm, specs/convnet-bn.nn and the residual
// network of specs/resnet.nn at batch 32/128/512,
// with peak RSS; each peer runs in its own child process, so warm-up and memory never mix. nnc runs on one
// thread and on two (data-parallel); the ratios use what `--threads auto` picks for a run of the notebook's 10
// epochs over the full training set.
// Then the convnet at batch 128 with augmentation on and off (AUGMENT_BENCH below), as a ratio of step times.
// Each row also states the step's achieved GFLOP/s (src/ir/flops.ts counts a model's multiply-adds) beside the
// machine's ceiling, a float32 SIMD GEMM measured first on one core and on two at once (bench/peers/gemm.ts).
// Usage: npm run bench [-- --quick] [--models=bn-mlp,mlp] [--batches=32,128] [--augment-only]
//        [--all (also compile/parse/data-load)]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fashionMnistInstalled, loadDataset, rowsAsFloat32 } from "../src/data/index.ts";
import { MODELS, benchProgram, type BenchModel } from "./peers/models.ts";
import type { PeerResult } from "./peers/common.ts";
import { planThreads } from "../src/train/parallel/plan.ts";
import { estimateTrainingMemory, formatBytes } from "../src/ir/training-memory.ts";
import { trainingFlops } from "../src/ir/flops.ts";

const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = argv.includes("--quick");
/** Only the augmentation rows (the convnet at batch 128 with augmentation on and off). */
const augmentOnly = argv.includes("--augment-only");
const models = (flag("models")?.split(",") ?? [...MODELS]) as BenchModel[];
const batches = (flag("batches")?.split(",") ?? ["32", "128", "512"]).map(Number);
const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");
const PYTHON = "/usr/bin/python3";

const source = fashionMnistInstalled() ? "fashion-mnist" : "mnist";
if (source === "mnist") {
  console.log(
    "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): using the embedded mnist",
  );
}

/** Samples per timed epoch: a fixed number of steps (samples / batch) after one warm-up epoch of the same. */
function samplesFor(model: BenchModel): number {
  const base = model === "convnet-bn" || model === "resnet" ? 3072 : 16384;
  return quick ? base / 4 : base;
}

/**
 * Steps per epoch at least for the peers that train on two threads (nnc, PyTorch): threads in lockstep take a
 * few dozen steps to settle after an epoch's end (the main thread evaluates alone meanwhile) and jitter per
 * step, so short epochs understated them (convnet-bn at batch 32 on two threads: 2,500-4,700 samples/s over 96
 * steps, 5,000-6,100 over a full Fashion-MNIST epoch). Capped at the training set.
 */
const THREADED_MIN_STEPS = 200;
function threadedSamplesFor(model: BenchModel, batch: number, trainCount: number): number {
  const steps = quick ? THREADED_MIN_STEPS / 4 : THREADED_MIN_STEPS;
  return Math.min(trainCount, Math.max(samplesFor(model), steps * batch));
}

interface Row {
  model: BenchModel;
  batch: number;
  /**
   * nnc on one thread, on two data-parallel threads, and on one training thread with its kernels split over two
   * cores; `nnc` is the one `--threads auto` picks.
   */
  nnc1?: PeerResult;
  nnc2?: PeerResult;
  nncSplit?: PeerResult;
  autoThreads: number;
  /** What auto picks: "1", "2" (data-parallel) or "split". */
  auto: string;
  nnc?: PeerResult;
  fit?: PeerResult;
  torch?: PeerResult;
  notes: string[];
}

function runPeer(command: string, args: string[], env: NodeJS.ProcessEnv = {}): PeerResult | string {
  const r = spawnSync(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  const last = r.stdout?.trim().split("\n").at(-1) ?? "";
  if (r.status === 0 && last.startsWith("{")) return JSON.parse(last) as PeerResult;
  const why = (r.stderr || r.error?.message || "no output").trim().split("\n").slice(-3).join(" | ");
  return `exit ${r.status}: ${why}`;
}

const tsx = join(root, "node_modules", ".bin", "tsx");

/** Whether the PyTorch peer can run, and why not. */
function torchStatus(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ["-c", "import torch, numpy; print(torch.__version__)"], {
    cwd: tmpdir(),
    encoding: "utf8",
  });
  if (r.status !== 0)
    return `python3-torch is not installed for ${PYTHON} (apt-get install python3-torch libopenblas0-pthread)`;
  return undefined;
}

const torchMissing = torchStatus();
let dataDir: string | undefined;
if (!torchMissing) {
  // PyTorch reads the training split as raw float32 / int32 files written once here.
  const data = await loadDataset({ source });
  dataDir = mkdtempSync(join(tmpdir(), "nnc-bench-"));
  const size = data.sampleShape.reduce((a, b) => a * b, 1);
  writeFileSync(join(dataDir, "x.f32"), rowsAsFloat32(data.train, 0, data.train.count, size));
  writeFileSync(join(dataDir, "y.i32"), Int32Array.from(data.train.y));
}

const trainCount = (await loadDataset({ source })).train.count;

/** GFLOP/s of the GEMM peer, run by `copies` processes at once (one per core): their sum. */
async function gemmCeiling(copies: number): Promise<number | string> {
  const one = () =>
    new Promise<{ gflops: number } | string>((resolve) => {
      const child = spawn(tsx, [join(here, "peers", "gemm.ts"), quick ? "1" : "3"], { cwd: root });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d));
      child.stderr.on("data", (d: Buffer) => (err += d));
      child.on("close", (code) => {
        const last = out.trim().split("\n").at(-1) ?? "";
        resolve(
          code === 0 && last.startsWith("{") ? JSON.parse(last) : `exit ${code}: ${err.trim().slice(-200)}`,
        );
      });
    });
  const results = await Promise.all(Array.from({ length: copies }, one));
  const failed = results.find((r) => typeof r === "string");
  if (typeof failed === "string") return failed;
  return results.reduce((sum, r) => sum + (r as { gflops: number }).gflops, 0);
}

const ceiling1 = augmentOnly ? 0 : await gemmCeiling(1);
const ceiling2 = augmentOnly || availableParallelism() < 2 ? 0 : await gemmCeiling(2);
if (!augmentOnly) {
  const g = (c: number | string) => (typeof c === "string" ? `failed (${c})` : `${c.toFixed(1)} GFLOP/s`);
  console.log(
    `Ceiling: float32 SIMD GEMM (tfjs-backend-wasm matMul, XNNPACK; best of sizes 256-1024): one core ${g(ceiling1)}` +
      (availableParallelism() >= 2 ? `, two cores at once ${g(ceiling2)}` : ""),
  );
}
/** The run `auto` is asked about: the notebook's 10 epochs over the whole training set. */
const NOTEBOOK_EPOCHS = 10;
const twoCores = availableParallelism() >= 2;
const rows: Row[] = [];
try {
  for (const model of augmentOnly ? [] : models) {
    for (const batch of batches) {
      const program = benchProgram(model, source, batch);
      const plan = planThreads({
        requested: "auto",
        model: program.models[0]!,
        batch,
        steps: Math.ceil(trainCount / batch) * NOTEBOOK_EPOCHS,
        compiledStep: true,
        backend: "wasm",
        kernelSplit: twoCores,
      });
      const auto = plan.splitKernels ? "split" : String(plan.threads);
      const row: Row = { model, batch, autoThreads: plan.threads, auto, notes: [] };
      const steps = (samples: number) => Math.floor(samples / batch);
      row.notes.push(
        `steps per timed epoch: nnc and PyTorch ${steps(threadedSamplesFor(model, batch, trainCount))}, ` +
          `tfjs-layers fit ${steps(samplesFor(model))}`,
      );
      const samples = String(samplesFor(model));
      const threadedSamples = String(threadedSamplesFor(model, batch, trainCount));
      const peerArgs = [model, String(batch), samples, source];
      const threadedArgs = [model, String(batch), threadedSamples, source];
      const put = (key: "nnc1" | "nnc2" | "nncSplit" | "fit" | "torch", r: PeerResult | string) => {
        if (typeof r === "string") row.notes.push(`${key}: ${r}`);
        else row[key] = r;
      };
      put("nnc1", runPeer(tsx, [join(here, "peers", "nnc.ts"), ...threadedArgs, "1"]));
      if (twoCores) {
        put("nnc2", runPeer(tsx, [join(here, "peers", "nnc.ts"), ...threadedArgs, "2"]));
        put("nncSplit", runPeer(tsx, [join(here, "peers", "nnc.ts"), ...threadedArgs, "kernels"]));
      }
      row.nnc = auto === "split" ? row.nncSplit : auto === "2" ? row.nnc2 : row.nnc1;
      put("fit", runPeer(tsx, [join(here, "peers", "tfjs-layers.ts"), ...peerArgs]));
      if (dataDir) {
        const ir = join(dataDir, `${model}.json`);
        writeFileSync(ir, JSON.stringify(benchProgram(model, source, batch).models[0]));
        put(
          "torch",
          runPeer(
            PYTHON,
            [
              join(here, "peers", "torch_peer.py"),
              ir,
              String(batch),
              threadedSamples,
              join(dataDir, "x.f32"),
              join(dataDir, "y.i32"),
            ],
            {
              OPENBLAS_NUM_THREADS: "1",
            },
          ),
        );
      }
      rows.push(row);
      printRow(row, rows.length === 1);
    }
  }
  if (models.includes("convnet-bn") || augmentOnly) augmentBench();
} finally {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

/**
 * Augmentation's cost (issue 14: at most 1.25x the step time without it): specs/convnet-bn.nn at batch 128, on
 * one thread and on two, with every interpolating transform on (bilinear: the costlier path; flips and crops
 * copy by index), trained without and with it back to back in this run.
 */
function augmentBench(): void {
  const AUGMENT = "flip=horizontal rotate=15 zoom=0.1 translate=0.1";
  const batch = 128;
  const samples = String(threadedSamplesFor("convnet-bn", batch, trainCount));
  console.log(
    `\nAugmentation: convnet-bn, batch ${batch}, augment ${AUGMENT} (applied to each training batch as it is ` +
      "built, on the main thread, before the rows go to the threads); samples/s best of two runs each, " +
      "alternated, each the best of two timed epochs",
  );
  for (const threads of twoCores ? ["1", "2"] : ["1"]) {
    const args = [join(here, "peers", "nnc.ts"), "convnet-bn", String(batch), samples, source, threads];
    // Alternated, best of two each: the machine's load drifts between runs (other processes share its cores).
    const runs = [false, true, false, true].map((augmented) => ({
      augmented,
      r: runPeer(tsx, augmented ? [...args, AUGMENT] : args),
    }));
    const failed = runs.find((x) => typeof x.r === "string");
    if (failed) {
      console.log(`    ${threads} thread(s): ${failed.r as string}`);
      continue;
    }
    const best = (augmented: boolean) =>
      runs
        .filter((x) => x.augmented === augmented)
        .map((x) => x.r as PeerResult)
        .reduce((a, b) => (b.samplesPerSecond > a.samplesPerSecond ? b : a));
    const off = best(false);
    const on = best(true);
    const n = (r: PeerResult) => Math.round(r.samplesPerSecond).toLocaleString("en-US");
    // Step time is batch / samples per second: the ratio of step times is the inverse ratio of throughputs.
    const ratio = off.samplesPerSecond / on.samplesPerSecond;
    const stepMs = (batch / off.samplesPerSecond) * 1000;
    const augmentMs = Number(on.extra?.augmentMsPerBatch);
    console.log(
      `    ${threads} thread${threads === "1" ? "" : "s"}: without ${n(off)}, with ${n(on)} samples/s: step time ` +
        `${ratio.toFixed(2)}x without (limit 1.25x); augmenting one batch alone ${augmentMs.toFixed(2)} ms, ` +
        `${((augmentMs / stepMs) * 100).toFixed(1)}% of a step without (${stepMs.toFixed(1)} ms)`,
    );
  }
}

function printRow(row: Row, header: boolean): void {
  const n = (r?: PeerResult) => (r ? Math.round(r.samplesPerSecond).toLocaleString("en-US") : "-");
  const ratio = (a?: PeerResult, b?: PeerResult) =>
    a && b ? (a.samplesPerSecond / b.samplesPerSecond).toFixed(2) + "x" : "-";
  const mb = (r?: PeerResult) => (r ? Math.round(r.peakRssMB).toString() : "-");
  const cells = [
    row.model,
    String(row.batch),
    "wasm",
    n(row.nnc1),
    twoCores ? n(row.nnc2) : "n/a",
    twoCores ? n(row.nncSplit) : "n/a",
    row.auto,
    n(row.fit),
    torchMissing ? "n/a" : n(row.torch),
    ratio(row.nnc, row.fit),
    torchMissing ? "n/a" : ratio(row.nnc, row.torch),
    `${mb(row.nnc)} / ${mb(row.fit)} / ${torchMissing ? "n/a" : mb(row.torch)}`,
  ];
  const widths = [11, 6, 8, 10, 10, 10, 5, 10, 10, 8, 9, 20];
  const line = (c: string[]) =>
    c.map((s, i) => (i < 3 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join(" ");
  if (header) {
    console.log(
      `\nTraining samples/s (${source}, ${quick ? "quick" : "full"}; best of two timed epochs of a fixed number of steps after one warm-up epoch; nnc and PyTorch, which train on two threads, at least ${quick ? THREADED_MIN_STEPS / 4 : THREADED_MIN_STEPS} steps per epoch or the whole training set, tfjs-layers fit (one thread, ~400-10,000 samples/s) fewer: each row says how many)`,
    );
    if (torchMissing) console.log(`PyTorch peer skipped: ${torchMissing}`);
    else console.log(`PyTorch: ${PYTHON}, OPENBLAS_NUM_THREADS=1, torch.set_num_threads(2)`);
    console.log(
      "nnc: one training thread, two (data-parallel: each its share of every batch), and one whose kernels split " +
        "over two cores ('split'; results bit for bit one thread's); 'auto' is what --threads auto picks for 10 " +
        "epochs over the full training set, and the ratios and nnc's RSS are of that one",
    );
    console.log(
      line([
        "model",
        "batch",
        "backend",
        "nnc 1 thr",
        "nnc 2 thr",
        "nnc split",
        "auto",
        "tfjs fit",
        "PyTorch",
        "nnc/fit",
        "nnc/torch",
        "peak RSS MB n/f/t",
      ]),
    );
  }
  console.log(line(cells));
  for (const note of row.notes) console.log(`    ${note}`);
  // What `nnc check` and `nnc summary` estimate for the run, beside what it measured (docs/memory.md).
  const program = benchProgram(row.model, source, row.batch);
  const estimate = estimateTrainingMemory(program.models[0]!, program.train, "wasm", row.autoThreads);
  console.log(
    `    nnc: training memory estimated ${formatBytes(estimate.total)} (wasm heap ${formatBytes(estimate.heap!.peak)}), ` +
      `measured peak RSS ${mb(row.nnc)} MB`,
  );
  const extra = row.nnc?.extra;
  if (extra?.inferFolded !== undefined) {
    const f = Number(extra.inferFolded);
    const u = Number(extra.inferUnfolded);
    console.log(
      `    inference (batch 1000): batchnorm folded ${Math.round(f).toLocaleString("en-US")} vs unfolded ${Math.round(u).toLocaleString("en-US")} samples/s (${(f / u).toFixed(2)}x)`,
    );
  }
  // Achieved GFLOP/s of the step (multiply-adds of forward and backward, src/ir/flops.ts) beside the ceiling.
  const flops = trainingFlops(program.models[0]!).perSample;
  const gflops = (r?: PeerResult) => (r ? (r.samplesPerSecond * flops) / 1e9 : undefined);
  const of = (value: number | undefined, ceiling: number | string) =>
    value === undefined
      ? "-"
      : `${value.toFixed(1)}` +
        (typeof ceiling === "number" && ceiling > 0 ? ` (${((value / ceiling) * 100).toFixed(0)}%)` : "");
  console.log(
    `    GFLOP/s (${(flops / 1e6).toFixed(2)} MFLOP per sample): nnc 1 thr ${of(gflops(row.nnc1), ceiling1)} of ` +
      `one core's ceiling, 2 thr ${of(gflops(row.nnc2), ceiling2)} and split ${of(gflops(row.nncSplit), ceiling2)} of ` +
      `two cores'; PyTorch ${of(gflops(row.torch), ceiling2)} of two cores'`,
  );
  if (extra && Number(extra.tensorGrowth) > 0)
    console.log(`    nnc: tf.memory().numTensors grew by ${extra.tensorGrowth}`);
}

if (argv.includes("--all")) {
  for (const bench of ["compile.ts", "parse.ts", "data-load.ts"]) {
    console.log(`\n== bench/${bench}`);
    spawnSync(tsx, [join(here, bench)], { cwd: root, stdio: "inherit" });
  }
} else {
  console.log(
    "\nOther benches: npx tsx bench/compile.ts | bench/parse.ts | bench/data-load.ts (or npm run bench -- --all)",
  );
}
