// Reports from results made by hand (no training): group statistics, plot files (valid SVG, PNG signature and
// IHDR size), report.html with every group and the spec, and the page opened in headless Chromium without
// console errors where Chromium is installed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { describeLrRule, expandGrid } from "../../src/experiment/grid.ts";
import { RESULTS_VERSION, validateResults, type Results } from "../../src/experiment/results-schema.ts";
import { summarizeCell } from "../../src/experiment/run-cell.ts";
import { PNG_SCALE, summarizeGroups, writeReport } from "../../src/report/index.ts";
import { compileText, tinySpec } from "../experiment/helpers.ts";

const SPEC = tinySpec(
  "experiment sizes {\n  compare plain normed\n  vary batch 16 48\n  lr_scale none\n  repeat 3\n  target 0.5\n}",
);

/** Results of a 2 x 2 x 3 grid whose accuracies follow a formula, so every statistic is known exactly. */
function madeUpResults(): Results {
  const program = compileText(SPEC);
  const experiment = program.experiments[0]!;
  const cells = expandGrid(program, experiment).map((cell) => {
    const base =
      (cell.model === "normed" ? 0.3 : 0.2) + (cell.varied.batch === 16 ? 0.1 : 0) + 0.01 * cell.repeat;
    const history = [1, 2, 3].map((epoch) => ({
      epoch,
      loss: 2 - base,
      accuracy: base,
      valLoss: 2 - base - 0.1 * epoch,
      valAccuracy: base + 0.1 * epoch,
      seconds: 1,
      samplesPerSecond: 1000 + cell.repeat,
    }));
    return summarizeCell(cell, history, { backend: "cpu", target: 0.5, seconds: 3, samplesPerSecond: 1000 });
  });
  const now = new Date().toISOString();
  return {
    resultsVersion: RESULTS_VERSION,
    nncVersion: "test",
    spec: { file: "tiny.nn", sha256: "a".repeat(64), text: SPEC + "# <script>alert(1)</script> & more\n" },
    experiment,
    lrRule: describeLrRule(experiment),
    options: {},
    data: "made up",
    validationName: "test",
    backend: "cpu (pure JS; slow)",
    jobs: 1,
    totalCells: cells.length,
    startedAt: now,
    updatedAt: now,
    cells,
  };
}

const stats = suite("group statistics");

stats("mean, sd, min and max over repeats, per epoch and final", () => {
  const results = madeUpResults();
  assert.equal(validateResults(results), []);
  const groups = summarizeGroups(results);
  assert.equal(
    groups.map((g) => g.group),
    ["plain batch=16", "plain batch=48", "normed batch=16", "normed batch=48"],
  );
  const g = groups[2]!; // normed batch=16: base 0.4 + 0.01 * repeat
  assert.is(g.cells.length, 3);
  const final = g.finalValAccuracy!;
  assert.ok(Math.abs(final.mean - 0.71) < 1e-12, String(final.mean));
  assert.ok(Math.abs(final.sd - 0.01) < 1e-12, String(final.sd));
  assert.ok(Math.abs(final.min - 0.7) < 1e-12 && Math.abs(final.max - 0.72) < 1e-12);
  assert.ok(Math.abs(g.firstEpochValAccuracy!.mean - 0.51) < 1e-12);
  assert.ok(Math.abs(g.epochs[1]!.valAccuracy!.mean - 0.61) < 1e-12);
  // Target 0.5: normed batch=16 reaches it at epoch 1; plain batch=48 (0.2 + 0.1 e) at epoch 3.
  assert.equal([g.epochsToTarget!.mean, g.reachedTarget], [1, 3]);
  assert.equal([groups[1]!.epochsToTarget!.mean, groups[1]!.reachedTarget], [3, 3]);
});

const files = suite("plots and report.html");

const dir = mkdtempSync(join(tmpdir(), "nnc-report-"));
let written: Awaited<ReturnType<typeof writeReport>>;

files.before(async () => {
  written = await writeReport(dir, madeUpResults());
});

files("SVG plots: an <svg> root with a size, axis titles and every group in the legend", () => {
  for (const name of ["val-accuracy", "val-loss"]) {
    const svg = readFileSync(join(dir, `${name}.svg`), "utf8");
    assert.match(svg, /^<svg[^>]* width="\d+" height="\d+"/);
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    assert.match(svg, ">epoch<");
    for (const g of ["plain batch=16", "plain batch=48", "normed batch=16", "normed batch=48"]) {
      assert.match(svg, `>${g}<`);
    }
  }
  assert.match(readFileSync(join(dir, "val-loss.svg"), "utf8"), ">validation loss<");
});

files("PNG plots: PNG signature, IHDR width and height = SVG size x scale", () => {
  for (const name of ["val-accuracy", "val-loss"]) {
    const png = readFileSync(join(dir, `${name}.png`));
    assert.equal([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.is(png.toString("latin1", 12, 16), "IHDR");
    const svg = readFileSync(join(dir, `${name}.svg`), "utf8");
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!;
    assert.is(png.readUInt32BE(16), Number(w) * PNG_SCALE);
    assert.is(png.readUInt32BE(20), Number(h) * PNG_SCALE);
    assert.ok(png.length > 10_000, "a drawn plot, not an empty image");
  }
});

files("report.html: every group, the lr rule, the backend, the spec (escaped), no scripts or network", () => {
  const html = readFileSync(join(dir, "report.html"), "utf8");
  assert.ok(written.files.some((f) => f.endsWith("report.html")));
  for (const g of ["plain", "normed"]) assert.match(html, `<td>${g}</td><td>batch=16</td>`);
  assert.is(html.match(/<tr><td>/g)?.length, 4, "one table row per group");
  assert.match(html, "0.7100 ± 0.0100");
  assert.match(html, "epochs to 0.5");
  assert.match(html, "lr_scale none");
  assert.match(html, "cpu (pure JS; slow)");
  assert.match(html, "model normed {");
  assert.match(html, "# &lt;script&gt;alert(1)&lt;/script&gt; &amp; more");
  assert.not.match(html, "<script");
  assert.not.match(html, /(src|href)="https?:/);
  assert.is(html.match(/<svg/g)?.length, 2, "both plots inline");
});

files("table.md: the report's table as markdown, one row per group, the same figures", () => {
  const md = readFileSync(join(dir, "table.md"), "utf8");
  assert.ok(written.files.some((f) => f.endsWith("table.md")));
  const lines = md.split("\n").filter((l) => l.startsWith("| "));
  assert.is(lines.length, 2 + 4, "head, rule and one row per group");
  assert.match(lines[0]!, "| model | settings | lr | runs | final test acc | best test acc |");
  assert.match(md, "Experiment `sizes` of tiny.nn");
  // plain batch=16: base 0.3 + 0.01 x repeat, + 0.3 after 3 epochs: 0.60, 0.61, 0.62.
  const plain16 = lines.find((l) => l.startsWith("| plain | batch=16 |"))!;
  assert.match(plain16, "| 0.6100 ± 0.0100 |");
  assert.match(plain16, "(3/3 reached)");
  // Every figure of the HTML table is in the markdown one.
  const html = readFileSync(join(dir, "report.html"), "utf8");
  for (const m of html.matchAll(/<td>(\d\.\d{4} ± \d\.\d{4})/g)) assert.match(md, m[1]!);
});

files(
  "a file data source is shown relative to the working folder, not as the machine's absolute path",
  async () => {
    const results = madeUpResults();
    const source = `csv:${join(process.cwd(), "examples", "t.csv")}`;
    for (const c of results.cells) c.train = { ...c.train, data: { ...c.train.data, source } };
    const out = mkdtempSync(join(tmpdir(), "nnc-report-source-"));
    await writeReport(out, results);
    const svg = readFileSync(join(out, "val-accuracy.svg"), "utf8");
    assert.match(svg, `on csv:${join("examples", "t.csv")}`);
    assert.not.match(svg, process.cwd());
  },
);

/** Chromium's binary, if installed. */
function findChromium(): string | undefined {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const r = spawnSync("which", [name], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

files("report.html opens in headless Chromium without console errors", () => {
  const chromium = findChromium();
  if (!chromium) {
    console.log("  skipped: Chromium is not installed (apt-get install chromium)");
    return;
  }
  const profile = mkdtempSync(join(tmpdir(), "nnc-chromium-"));
  const r = spawnSync(
    chromium,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      "--enable-logging=stderr",
      "--v=0",
      "--dump-dom",
      pathToFileURL(join(dir, "report.html")).href,
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, "<svg");
  assert.match(r.stdout, "normed batch=48");
  const consoleLines = r.stderr.split("\n").filter((l) => /:CONSOLE\b/.test(l));
  assert.equal(consoleLines, [], "console messages");
  assert.ok(existsSync(profile));
});

stats.run();
files.run();
