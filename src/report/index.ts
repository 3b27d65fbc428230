// Reports: experiment results -> files in the run folder: val-accuracy.{svg,png}, val-loss.{svg,png},
// report.html and table.md (its table as markdown). Made from results.json alone, so a report can be remade (or made for a half-finished run).
import { isAbsolute, join, relative } from "node:path";
import type { Results } from "../experiment/results-schema.ts";
import { writeFileAtomic } from "../save/atomic.ts";
import { renderReport } from "./html.ts";
import { renderPlots, systemFontsMissing, type Plot } from "./plots.ts";
import { summarizeGroups, type GroupSummary } from "./summary.ts";
import { groupTableMarkdown } from "./table.ts";

export { summarizeGroups, spread, type GroupSummary, type Spread } from "./summary.ts";
export {
  plotSpec,
  renderPlots,
  renderSvg,
  svgToPng,
  systemFontsMissing,
  PNG_SCALE,
  type Plot,
} from "./plots.ts";
export { renderReport, groupTable, escapeHtml } from "./html.ts";
export { formatSpread, groupTableMarkdown } from "./table.ts";

export interface WrittenReport {
  files: string[];
  groups: GroupSummary[];
  plots: Plot[];
  /** Why the PNGs may lack text (no fonts found), for the CLI to say. */
  warning?: string;
}

/**
 * A data source as a plot's subtitle shows it: a file source's path relative to the working folder when it lies
 * inside it (results.json holds it resolved, so a figure committed to docs would show the machine's folders).
 */
function shownSource(source: string): string {
  const m = /^(csv|idx):(.*)$/.exec(source);
  if (!m || !isAbsolute(m[2]!)) return source;
  const rel = relative(process.cwd(), m[2]!);
  return rel.startsWith("..") || isAbsolute(rel) ? source : `${m[1]}:${rel}`;
}

export async function writeReport(dir: string, results: Results): Promise<WrittenReport> {
  const groups = summarizeGroups(results);
  const data = results.cells[0]?.train.data;
  const limit = data?.limit !== undefined ? ` (${data.limit.toLocaleString("en-US")} training samples)` : "";
  const subtitle = `experiment ${results.experiment.name}${data ? ` on ${shownSource(data.source)}${limit}` : ""}`;
  const plots = await renderPlots(groups, { subtitle, validationName: results.validationName });
  const files: string[] = [];
  for (const p of plots) {
    for (const [ext, data] of [
      ["svg", p.svg],
      ["png", p.png],
    ] as const) {
      const file = join(dir, `${p.name}.${ext}`);
      writeFileAtomic(file, data);
      files.push(file);
    }
  }
  const html = join(dir, "report.html");
  writeFileAtomic(html, renderReport(results, groups, plots));
  files.push(html);
  const table = join(dir, "table.md");
  writeFileAtomic(table, groupTableMarkdown(groups, results));
  files.push(table);
  const report: WrittenReport = { files, groups, plots };
  if (systemFontsMissing()) {
    report.warning =
      "no system fonts found: the PNG plots have no text (install one, e.g. apt-get install fonts-dejavu-core); " +
      "the SVG plots and report.html are not affected";
  }
  return report;
}
