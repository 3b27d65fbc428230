// Reports: what `watch` recorded (issue 19) -> one plot, a panel per watched layer, as Ioffe & Szegedy's Figure 1
// (b, c) drew a sigmoid input's 15th, 50th and 85th percentiles over training: per cell group, a band from the
// low to the high percentile and a line at the middle one, against the training step (the mean over repeats).
import type { TopLevelSpec } from "vega-lite";
import type { WatchSeries } from "../ir/schema.ts";
import { describeWatch } from "../ir/watch.ts";
import { plotLayout } from "./plot-layout.ts";
import type { GroupSummary } from "./summary.ts";

interface Row {
  panel: string;
  colour: string;
  step: number;
  low: number;
  mid: number;
  high: number;
}

const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** A series' panel: the layer, side and unit, and its percentiles. */
const panelOf = (s: WatchSeries): string =>
  `${describeWatch(s)} (p${s.percentiles.map((p) => +p.toPrecision(4)).join("/")})`;

/** Mean over the repeats' records at each step (a diverged repeat's missing or null records left out). */
function meanRows(series: WatchSeries[], panel: string, colour: string): Row[] {
  const byStep = new Map<number, number[][]>();
  for (const s of series) {
    s.steps.forEach((step, i) => {
      const v = s.values[i];
      if (!v || v.some((x) => x === null)) return;
      const list = byStep.get(step) ?? [];
      list.push(v as number[]);
      byStep.set(step, list);
    });
  }
  return [...byStep.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([step, vs]) => {
      const mean = (k: number) => vs.reduce((a, v) => a + v[k]!, 0) / vs.length;
      return { panel, colour, step, low: mean(0), mid: mean(1), high: mean(2) };
    });
}

/** The watch plot's vega-lite spec, or undefined when no cell watched anything. */
export function watchPlotSpec(
  groups: GroupSummary[],
  options: { subtitle: string },
): TopLevelSpec | undefined {
  const layout = plotLayout(groups);
  const data: Row[] = [];
  const panels: string[] = [];
  let repeats = 1;
  for (const g of groups) {
    const watched = g.cells.map((c) => c.watch ?? []);
    repeats = Math.max(repeats, watched.filter((w) => w.length > 0).length);
    const keys = [...new Set(watched.flat().map(panelOf))];
    for (const key of keys) {
      if (!panels.includes(key)) panels.push(key);
      const series = watched.flatMap((w) => w.filter((s) => panelOf(s) === key));
      data.push(...meanRows(series, key, layout.colourOf(g)));
    }
  }
  if (data.length === 0) return undefined;
  const colours = [...new Set(groups.map(layout.colourOf))];
  const color = {
    field: "colour",
    type: "nominal" as const,
    title: layout.colourTitle,
    sort: colours,
    scale: { scheme: colours.length > 10 ? "tableau20" : "tableau10" },
    legend: { symbolType: "stroke", symbolOpacity: 1, symbolStrokeWidth: 3 },
  };
  const x = { field: "step", type: "quantitative" as const, title: "training step" };
  const layers = {
    encoding: { x, color },
    layer: [
      {
        mark: { type: "area", opacity: 0.2 },
        encoding: {
          y: { field: "low", type: "quantitative", title: "value", scale: { zero: false } },
          y2: { field: "high" },
        },
      },
      { mark: { type: "line", strokeWidth: 2 }, encoding: { y: { field: "mid", type: "quantitative" } } },
    ],
  };
  const subtitle = [
    options.subtitle,
    `band: low to high percentile over the batch, line: the middle one${repeats > 1 ? ` (mean of ${repeats} runs)` : ""}`,
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Watched layers over training", anchor: "start", subtitle },
    background: "white",
    config: { font: FONT, legend: { labelLimit: 0 } },
    data: { values: data },
    facet: {
      field: "panel",
      type: "nominal",
      title: null,
      sort: panels,
      header: { labelFontSize: 12, labelFontWeight: "bold" },
    },
    columns: panels.length <= 1 ? 1 : 2,
    resolve: { scale: { y: "independent" } },
    spec: { width: panels.length <= 1 ? 520 : 320, height: 220, ...layers },
  } as TopLevelSpec;
}
