// How a plot shows an experiment's groups: which settings tell lines apart by colour, which split the plot into
// panels (small multiples), and which are the same everywhere. A legend entry names only what varies within
// its panel, so labels stay short enough to print whole however many settings the grid varies, and no panel
// holds more lines than colours a reader can tell apart.
import type { GroupSummary } from "./summary.ts";

/** Lines one panel may hold: tableau10's colours, the most a reader tells apart in a legend. */
export const MAX_LINES_PER_PANEL = 10;

/** A setting of the grid (or the model, when the experiment compares several) and its values in grid order. */
interface Factor {
  key: string;
  values: string[];
  valueOf: (g: GroupSummary) => string;
}

export interface PlotLayout {
  /** The legend's title: the settings that colour the lines ("model, batch"). */
  colourTitle: string;
  /** A group's legend label: its values of the colour settings ("normed batch=32"). */
  colourOf: (g: GroupSummary) => string;
  /** The panel's title ("bnstats=exact"), when the groups are split into panels. */
  panelOf?: (g: GroupSummary) => string;
  panelTitle?: string;
  panels: number;
  /** The settings every group shares ("init=glorot_uniform"), for the subtitle; empty when none. */
  shared: string;
  /** Whether the model is one of the colour settings (then lines are also dashed per model). */
  modelColours: boolean;
}

function factorsOf(groups: GroupSummary[]): Factor[] {
  const keys = [...new Set(groups.flatMap((g) => Object.keys(g.varied)))];
  const factors: Factor[] = [
    { key: "model", values: [], valueOf: (g) => g.model },
    ...keys.map((key) => ({
      key,
      values: [],
      valueOf: (g: GroupSummary) => `${key}=${g.varied[key] ?? "-"}`,
    })),
  ];
  for (const f of factors) f.values = [...new Set(groups.map(f.valueOf))];
  return factors;
}

const labelOf = (factors: Factor[]) => (g: GroupSummary) => factors.map((f) => f.valueOf(g)).join(" ");
const product = (factors: Factor[]) => factors.reduce((n, f) => n * f.values.length, 1);

export function plotLayout(groups: GroupSummary[]): PlotLayout {
  const factors = factorsOf(groups);
  const shared = factors.filter((f) => f.values.length === 1 && f.key !== "model");
  const varying = factors.filter((f) => f.values.length > 1);
  // Settings with the fewest values move to panels first (a panel per value is cheapest for them), the model
  // first among equals; the settings with many values stay colours, where a legend lists them compactly.
  const colours = [...varying];
  const panels: Factor[] = [];
  while (product(colours) > MAX_LINES_PER_PANEL && colours.length > 1) {
    const fewest = colours.reduce((a, b) => (b.values.length < a.values.length ? b : a));
    colours.splice(colours.indexOf(fewest), 1);
    panels.push(fewest);
  }
  // One group and nothing varied: the model names the line.
  const colourFactors = colours.length > 0 ? colours : factors.slice(0, 1);
  const layout: PlotLayout = {
    colourTitle: colourFactors.map((f) => f.key).join(", "),
    colourOf: labelOf(colourFactors),
    panels: product(panels),
    shared: shared.map((f) => f.values[0]).join(" "),
    modelColours: colourFactors.some((f) => f.key === "model") && factors[0]!.values.length > 1,
  };
  if (panels.length > 0) {
    panels.sort((a, b) => factors.indexOf(a) - factors.indexOf(b));
    layout.panelOf = labelOf(panels);
    layout.panelTitle = panels.map((f) => f.key).join(", ");
  }
  return layout;
}
