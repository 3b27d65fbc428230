// Reports: group statistics -> plots of validation accuracy and loss per epoch (mean line, min-max band over
// repeats, one colour per group), as a vega-lite spec rendered headless by vega to SVG and by resvg to PNG.
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { plotLayout, type PlotLayout } from "./plot-layout.ts";
import type { GroupSummary } from "./summary.ts";
import { watchPlotSpec } from "./watch-plot.ts";

export type PlotMetric = "valAccuracy" | "valLoss";

export interface Plot {
  /** What it draws: a metric per epoch, or the watched layers per step. */
  metric: PlotMetric | "watch";
  /** File stem: val-accuracy, val-loss. */
  name: string;
  svg: string;
  png: Uint8Array;
  width: number;
  height: number;
}

/** Vega lays text out with this family; resvg needs it installed to draw labels (DejaVu on Debian). */
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
/** PNG pixels per SVG pixel: sharp on high-density screens and in docs. */
export const PNG_SCALE = 2;

const TITLES: Record<PlotMetric, { title: string; axis: string; name: string }> = {
  valAccuracy: { title: "Validation accuracy", axis: "validation accuracy", name: "val-accuracy" },
  valLoss: { title: "Validation loss", axis: "validation loss", name: "val-loss" },
};

interface Row {
  group: string;
  colour: string;
  panel: string;
  model: string;
  epoch: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

function rows(groups: GroupSummary[], metric: PlotMetric, layout: PlotLayout): Row[] {
  return groups.flatMap((g) =>
    g.epochs.flatMap((e) => {
      const s = e[metric];
      return s
        ? [
            {
              group: g.group,
              colour: layout.colourOf(g),
              panel: layout.panelOf?.(g) ?? "",
              model: g.model,
              epoch: e.epoch,
              mean: s.mean,
              lo: s.min,
              hi: s.max,
              n: s.n,
            },
          ]
        : [];
    }),
  );
}

/** The vega-lite spec of one plot (exported so tests and users can inspect what is drawn). */
export function plotSpec(
  groups: GroupSummary[],
  metric: PlotMetric,
  options: { subtitle: string; validationName?: string },
): TopLevelSpec {
  const t = TITLES[metric];
  // The held-out split is the test set unless the spec holds out part of train (`validation=`): say which.
  const title = options.validationName ? `${t.title} (${options.validationName} set)` : t.title;
  const axis = t.axis;
  const layout = plotLayout(groups);
  const data = rows(groups, metric, layout);
  const colours = [...new Set(groups.map(layout.colourOf))];
  const repeats = Math.max(1, ...groups.map((g) => g.cells.length));
  const maxEpoch = Math.max(1, ...groups.flatMap((g) => g.epochs.map((e) => e.epoch)));
  const color = {
    field: "colour",
    type: "nominal" as const,
    title: layout.colourTitle,
    sort: colours,
    scale: { scheme: colours.length > 10 ? "tableau20" : "tableau10" },
    legend: { symbolType: "stroke", symbolOpacity: 1, symbolStrokeWidth: 3 },
  };
  const x = {
    field: "epoch",
    type: "quantitative" as const,
    title: "epoch",
    scale: { domain: [1, maxEpoch] },
    axis: { tickMinStep: 1, format: "d" },
  };
  const layers = {
    encoding: { x, color },
    layer: [
      {
        mark: { type: "area", opacity: 0.18 },
        encoding: {
          y: { field: "lo", type: "quantitative", title: axis, scale: { zero: false } },
          y2: { field: "hi" },
        },
      },
      {
        mark: { type: "line", strokeWidth: 2, point: { size: 28 } },
        encoding: {
          y: { field: "mean", type: "quantitative", title: axis },
          ...(layout.modelColours && colours.length > 2
            ? {
                strokeDash: {
                  field: "model",
                  type: "nominal",
                  title: "model",
                  // Its own legend: the color legend's symbols are solid whatever the model's dash.
                  legend: {
                    symbolType: "stroke",
                    symbolStrokeWidth: 2.5,
                    symbolSize: 400,
                    encode: { symbols: { update: { stroke: { value: "#555" } } } },
                  },
                },
              }
            : {}),
        },
      },
    ],
  };
  // Two short lines: without a canvas vega estimates text widths generously, and one long line would widen
  // the image far past the plot. What every group shares is said once here instead of in each label.
  const subtitle = [
    layout.shared ? `${options.subtitle}; all groups: ${layout.shared}` : options.subtitle,
    ...(repeats > 1 ? [`line: mean of ${repeats} runs, band: min to max`] : []),
  ];
  const common = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, anchor: "start", subtitle: subtitle.length > 1 ? subtitle : subtitle[0] },
    background: "white",
    // labelLimit 0: legend labels are printed whole (they hold only what varies, so they stay short).
    config: { font: FONT, legend: { labelLimit: 0 } },
    data: { values: data },
  };
  if (!layout.panelOf) return { ...common, width: 520, height: 300, ...layers } as TopLevelSpec;
  // Small multiples: one panel per value of the panel settings, the same axes and colours in each.
  return {
    ...common,
    facet: {
      field: "panel",
      type: "nominal",
      title: layout.panelTitle,
      sort: [...new Set(groups.map((g) => layout.panelOf!(g)))],
      header: { labelFontSize: 12, labelFontWeight: "bold", titleFontSize: 12 },
    },
    columns: layout.panels <= 4 ? 2 : 3,
    spec: { width: 300, height: 190, ...layers },
  } as TopLevelSpec;
}

/** Font folders resvg's system search looks in; none holding a font means PNG text would not show. */
export function systemFontsMissing(): boolean {
  const dirs = [
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    join(homedir(), ".fonts"),
    join(homedir(), ".local/share/fonts"),
    "/System/Library/Fonts",
    "/Library/Fonts",
    "C:\\Windows\\Fonts",
  ];
  const hasFont = (dir: string, depth: number): boolean => {
    if (!existsSync(dir) || depth > 4) return false;
    try {
      return readdirSync(dir, { withFileTypes: true }).some((d) =>
        d.isDirectory() ? hasFont(join(dir, d.name), depth + 1) : /\.(ttf|otf|ttc)$/i.test(d.name),
      );
    } catch {
      return false;
    }
  };
  return !dirs.some((d) => hasFont(d, 0));
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string): { png: Uint8Array; width: number; height: number } {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
    fitTo: { mode: "zoom", value: PNG_SCALE },
    background: "white",
  });
  const image = resvg.render();
  return { png: new Uint8Array(image.asPng()), width: image.width, height: image.height };
}

/** The report's plots: validation accuracy and loss per epoch, and the watched layers per step when any. */
export async function renderPlots(
  groups: GroupSummary[],
  options: { subtitle: string; validationName?: string },
): Promise<Plot[]> {
  const plots: Plot[] = [];
  for (const metric of ["valAccuracy", "valLoss"] as const) {
    const svg = await renderSvg(plotSpec(groups, metric, options));
    const { png, width, height } = svgToPng(svg);
    plots.push({ metric, name: TITLES[metric].name, svg, png, width, height });
  }
  const watch = watchPlotSpec(groups, options);
  if (watch) {
    const svg = await renderSvg(watch);
    plots.push({ metric: "watch", name: "watch", svg, ...svgToPng(svg) });
  }
  return plots;
}
