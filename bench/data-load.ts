// Benchmark of the data layer: load time and memory growth (RSS, JS heap, ArrayBuffers) for the embedded
// mnist, Debian's fashion-mnist (where installed) and a generated folder of 60,000 uncompressed 28x28 IDX
// images, and a Kaggle-layout CSV of 42,000 rows. Each case runs in its own process, so one case's garbage does not inflate the next one's figures.
// Usage: npx tsx bench/data-load.ts
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fashionMnistInstalled } from "../src/data/fashion-mnist.ts";
import { loadDataset } from "../src/data/load.ts";

const MB = 1024 * 1024;

/** 60,000 images of 28x28 with deterministic pixels, and their labels, written uncompressed. */
function writeIdx60k(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, dims: number[], fill: (i: number) => number) => {
    const size = dims.reduce((a, b) => a * b, 1);
    const bytes = Buffer.alloc(4 + 4 * dims.length + size);
    bytes[2] = 0x08;
    bytes[3] = dims.length;
    dims.forEach((d, k) => bytes.writeUInt32BE(d, 4 + 4 * k));
    for (let i = 0; i < size; i++) bytes[4 + 4 * dims.length + i] = fill(i);
    writeFileSync(join(dir, name), bytes);
  };
  write("train-images-idx3-ubyte", [60000, 28, 28], (i) => (i * 31) & 255);
  write("train-labels-idx1-ubyte", [60000], (i) => i % 10);
  write("t10k-images-idx3-ubyte", [10000, 28, 28], (i) => (i * 17) & 255);
  write("t10k-labels-idx1-ubyte", [10000], (i) => i % 10);
}

/** A Kaggle-layout train.csv: label,pixel0..783, 42,000 rows, most pixels 0 as in MNIST. */
function writeKaggleCsv(file: string): void {
  const lines = [["label", ...Array.from({ length: 784 }, (_, j) => `pixel${j}`)].join(",")];
  for (let i = 0; i < 42000; i++) {
    const row = [i % 10];
    for (let j = 0; j < 784; j++) row.push((i * 31 + j * 7) % 5 === 0 ? (i + j) % 256 : 0);
    lines.push(row.join(","));
  }
  writeFileSync(file, lines.join("\n") + "\n");
}

async function measure(source: string, label: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const start = performance.now();
  const ds = await loadDataset({ source });
  const ms = performance.now() - start;
  // ArrayBuffer stores are freed after the collection, on a later tick: settle before reading.
  for (let k = 0; k < 2; k++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const after = process.memoryUsage();
  const stored = (ds.train.x.byteLength + ds.validation.x.byteLength) / MB;
  const grow = (k: keyof NodeJS.MemoryUsage) => ((after[k] - before[k]) / MB).toFixed(0).padStart(5);
  const peak = (process.resourceUsage().maxRSS * 1024 - before.rss) / MB;
  console.log(
    `${label.padEnd(16)} ${ms.toFixed(0).padStart(6)} ms   ${ds.train.count.toString().padStart(6)} + ` +
      `${ds.validation.count.toString().padEnd(6)} ${ds.train.x instanceof Uint8Array ? "uint8  " : "float32"} data ${stored.toFixed(0).padStart(4)} MB   growth: ` +
      `rss ${grow("rss")} MB (peak ${peak.toFixed(0).padStart(4)}), heap ${grow("heapUsed")} MB, arrayBuffers ${grow("arrayBuffers")} MB`,
  );
}

const caseArg = process.argv.indexOf("--case");
if (caseArg >= 0) {
  await measure(process.argv[caseArg + 1]!, process.argv[caseArg + 2]!);
} else {
  const dir = mkdtempSync(join(tmpdir(), "nnc-bench-idx-"));
  writeIdx60k(dir);
  writeKaggleCsv(join(dir, "train.csv"));
  const cases = [
    ["mnist", "mnist"],
    ...(fashionMnistInstalled() ? [["fashion-mnist", "fashion-mnist"]] : []),
    [`idx:${dir}`, "idx: 60k raw"],
    [`csv:${join(dir, "train.csv")}`, "csv: 42k Kaggle"],
  ];
  if (!fashionMnistInstalled())
    console.log("fashion-mnist: skipped, not installed (apt-get install dataset-fashion-mnist)");
  const self = fileURLToPath(import.meta.url);
  for (const [source, label] of cases) {
    for (let run = 0; run < 3; run++) {
      const child = spawnSync(
        process.execPath,
        ["--expose-gc", "--import", "tsx", self, "--case", source!, label!],
        {
          stdio: "inherit",
        },
      );
      if (child.status !== 0) process.exitCode = 1;
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
