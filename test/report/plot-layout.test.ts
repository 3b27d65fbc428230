// Plots of grids with many settings: legend labels name only what varies and are printed whole (no "…"), and
// a grid with more groups than a panel can tell apart by colour is drawn as small multiples.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { describeLrRule, expandGrid } from "../../src/experiment/grid.ts";
import { RESULTS_VERSION, type Results } from "../../src/experiment/results-schema.ts";
import { summarizeCell } from "../../src/experiment/run-cell.ts";
import { summarizeGroups } from "../../src/report/index.ts";
import { MAX_LINES_PER_PANEL, plotLayout } from "../../src/report/plot-layout.ts";
import { plotSpec, renderSvg } from "../../src/report/plots.ts";
import { compileText, tinySpec } from "../experiment/helpers.ts";

function madeUpResults(experimentText: string): Results {
  const text = tinySpec(experimentText);
  const program = compileText(text);
  const experiment = program.experiments[0]!;
  const cells = expandGrid(program, experiment).map((cell, i) => {
    const base = 0.2 + 0.02 * (i % 17);
    const history = [1, 2, 3].map((epoch) => ({
      epoch,
      loss: 1,
      accuracy: base,
      valLoss: 2 - base,
      valAccuracy: base + 0.1 * epoch,
      seconds: 1,
      samplesPerSecond: 1000,
    }));
    return summarizeCell(cell, history, { backend: "cpu", target: 0.5, seconds: 3, samplesPerSecond: 1000 });
  });
  const now = new Date().toISOString();
  return {
    resultsVersion: RESULTS_VERSION,
    nncVersion: "test",
    spec: { file: "grid.nn", sha256: "a".repeat(64), text },
    experiment,
    lrRule: describeLrRule(experiment),
    options: {},
    data: "made up",
    validationName: "test",
    backend: "cpu",
    jobs: 1,
    totalCells: cells.length,
    startedAt: now,
    updatedAt: now,
    cells,
  };
}

/** The text vega drew in an SVG (its <text> elements), entities decoded. */
const texts = (svg: string): string[] =>
  [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">"),
  );

const THREE_FACTORS = `experiment big {
  compare plain normed
  vary bnstats exact ema
  vary init glorot_uniform he_normal lecun_uniform
  vary batch 32 128
}`;

const layout = suite("plot layout");

layout("a 2x2x3x2 grid: 24 groups in 4 panels (model, bnstats) of 6 lines (init, batch)", () => {
  const groups = summarizeGroups(madeUpResults(THREE_FACTORS));
  assert.is(groups.length, 24);
  const l = plotLayout(groups);
  assert.is(l.panelTitle, "model, bnstats");
  assert.is(l.colourTitle, "init, batch");
  assert.is(l.panels, 4);
  const g = groups.find((x) => x.model === "normed" && x.varied.bnstats === "ema" && x.varied.batch === 128)!;
  assert.is(l.panelOf!(g), "normed bnstats=ema");
  assert.is(l.colourOf(g), `init=${g.varied.init} batch=128`);
  const perPanel = new Map<string, Set<string>>();
  for (const x of groups) {
    const set = perPanel.get(l.panelOf!(x)) ?? new Set();
    perPanel.set(l.panelOf!(x), set.add(l.colourOf(x)));
  }
  for (const lines of perPanel.values()) assert.ok(lines.size <= MAX_LINES_PER_PANEL);
  assert.is(new Set(groups.map((x) => `${l.panelOf!(x)}|${l.colourOf(x)}`)).size, 24, "each group one line");
});

layout(
  "a setting with one value is said once (subtitle), not in every label; few groups stay one panel",
  () => {
    const groups = summarizeGroups(
      madeUpResults("experiment e {\n  compare plain normed\n  vary init he_normal\n  vary batch 16 48\n}"),
    );
    const l = plotLayout(groups);
    assert.is(l.panelOf, undefined);
    assert.is(l.shared, "init=he_normal");
    assert.equal(groups.map(l.colourOf), [
      "plain batch=16",
      "plain batch=48",
      "normed batch=16",
      "normed batch=48",
    ]);
  },
);

const drawn = suite("plots of a 3-factor grid");

drawn("every legend label and panel title is in the SVG whole; nothing is cut with an ellipsis", async () => {
  const groups = summarizeGroups(madeUpResults(THREE_FACTORS));
  const l = plotLayout(groups);
  for (const metric of ["valAccuracy", "valLoss"] as const) {
    const svg = await renderSvg(plotSpec(groups, metric, { subtitle: "made up", validationName: "test" }));
    const shown = texts(svg);
    for (const g of groups) {
      assert.ok(shown.includes(l.colourOf(g)), `legend label ${l.colourOf(g)}`);
      assert.ok(shown.includes(l.panelOf!(g)), `panel title ${l.panelOf!(g)}`);
    }
    assert.not.ok(
      shown.some((t) => t.includes("…")),
      shown.filter((t) => t.includes("…")).join(", "),
    );
  }
});

layout.run();
drawn.run();
