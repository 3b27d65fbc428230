// Reports: results + group statistics + plots -> report.html, one self-contained page (inline SVG and CSS, no
// scripts, no network): the plots, a table of final metrics per cell group, the lr rule, backend and the spec.
import type { Results } from "../experiment/results-schema.ts";
import { varyValueText } from "../experiment/vary-value.ts";
import type { Plot } from "./plots.ts";
import type { GroupSummary } from "./summary.ts";
import { groupTableCells, tableNote, type TableCell } from "./table.ts";

export const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

export function groupTable(groups: GroupSummary[], results: Results): string {
  const { head, rows } = groupTableCells(groups, results);
  const td = (c: TableCell) =>
    `<td>${escapeHtml(c.text)}${c.note ? ` <small>(${escapeHtml(c.note)})</small>` : ""}</td>`;
  return (
    `<table>\n<thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>\n` +
    `<tbody>\n${rows.map((r) => `<tr>${r.map(td).join("")}</tr>`).join("\n")}\n</tbody>\n</table>`
  );
}

/** The SVG as an inline element: vega writes a bare <svg> root, an XML prolog would be text inside HTML. */
const inlineSvg = (svg: string) => svg.replace(/^<\?xml[^>]*>\s*/, "");

const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1100px;
  padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: bold; } dd { margin: 0; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: right; }
th:nth-child(-n+3), td:nth-child(-n+3) { text-align: left; }
thead th { border-bottom: 2px solid #888; }
figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; }
pre { background: #f6f6f6; padding: 1rem; overflow-x: auto; font-size: .85rem; }
small { color: #666; }
`;

export function renderReport(results: Results, groups: GroupSummary[], plots: Plot[]): string {
  const e = results.experiment;
  const done = results.cells.length;
  const diverged = results.cells.filter((c) => c.status === "diverged").length;
  const facts: Array<[string, string]> = [
    ["spec", `${results.spec.file} (sha256 ${results.spec.sha256.slice(0, 12)}…)`],
    ["models", e.compare.join(", ")],
    [
      "varied",
      e.vary.map((v) => `${v.key} ${v.values.map(varyValueText).join(" ")}`).join("; ") || "nothing",
    ],
    ["repeats", `${e.repeat} per group (seeds seed, seed+1, …)`],
    ["learning rate", results.lrRule],
    ["cells", `${done} of ${results.totalCells} finished${diverged > 0 ? `, ${diverged} diverged` : ""}`],
    ["data", results.data],
    ["backend", `${results.backend}, ${results.jobs} parallel job${results.jobs === 1 ? "" : "s"}`],
    [
      "run options",
      Object.entries(results.options)
        .map(([k, v]) => `--${k} ${v}`)
        .join(" ") || "none",
    ],
    ["nnc", `${results.nncVersion}, results updated ${results.updatedAt}`],
  ];
  const title = `Experiment ${e.name}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — nnc</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<dl>
${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("\n")}
</dl>
<h2>Per epoch</h2>
${plots.map((p) => `<figure id="${p.name}">\n${inlineSvg(p.svg)}\n</figure>`).join("\n")}
<h2>Final metrics per group</h2>
<p><small>${escapeHtml(tableNote(results))}</small></p>
${groupTable(groups, results)}
<h2>Spec</h2>
<pre>${escapeHtml(results.spec.text)}</pre>
</body>
</html>
`;
}
