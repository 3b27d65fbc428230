// Reports: the table of final metrics per cell group, as cells, rendered by report.html (html.ts) and as
// markdown into table.md, which docs and issues can quote as it is.
import type { Results } from "../experiment/results-schema.ts";
import { varyValueText } from "../experiment/vary-value.ts";
import type { GroupSummary, Spread } from "./summary.ts";

/** A cell's text and a remark printed smaller beside it ("2/3 reached", "1 diverged"). */
export interface TableCell {
  text: string;
  note?: string;
}

/** "0.9712 ± 0.0021" (sd over repeats), or the single value, or an en dash when there is none. */
export function formatSpread(s: Spread | undefined, digits = 4): string {
  if (!s) return "–";
  return s.n > 1 ? `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}` : s.mean.toFixed(digits);
}

const thousands = (x: number) => Math.round(x).toLocaleString("en-US");

export function groupTableCells(
  groups: GroupSummary[],
  results: Results,
): { head: string[]; rows: TableCell[][] } {
  const target = results.experiment.target;
  const evalTrain = results.experiment.evalTrain === true;
  const head = [
    "model",
    "settings",
    "lr",
    "runs",
    `final ${results.validationName} acc`,
    `best ${results.validationName} acc`,
    "acc after epoch 1",
    ...(target !== undefined ? [`epochs to ${target}`] : []),
    ...(evalTrain ? ["final train acc, train mode", "final train acc, inference mode"] : []),
    "samples/s",
  ];
  const rows = groups.map((g): TableCell[] => {
    const settings = Object.entries(g.varied)
      .map(([k, v]) => `${k}=${varyValueText(v)}`)
      .join(" ");
    const reached = `${g.reachedTarget}/${g.cells.length} reached`;
    return [
      { text: g.model },
      { text: settings || "–" },
      { text: g.lrNote },
      { text: String(g.cells.length), ...(g.diverged > 0 ? { note: `${g.diverged} diverged` } : {}) },
      { text: formatSpread(g.finalValAccuracy) },
      { text: formatSpread(g.bestValAccuracy) },
      { text: formatSpread(g.firstEpochValAccuracy) },
      ...(target !== undefined
        ? [{ text: g.epochsToTarget ? formatSpread(g.epochsToTarget, 1) : "never", note: reached }]
        : []),
      ...(evalTrain
        ? [{ text: formatSpread(g.finalTrainAccuracy) }, { text: formatSpread(g.finalTrainEvalAccuracy) }]
        : []),
      { text: g.samplesPerSecond ? thousands(g.samplesPerSecond.mean) : "–" },
    ];
  });
  return { head, rows };
}

/** What the table's figures are, printed under it. */
export function tableNote(results: Results): string {
  const e = results.experiment;
  return (
    `mean ± standard deviation over the group's runs; accuracies on the ${results.validationName} set with ` +
    "population batch-norm statistics" +
    (e.target !== undefined
      ? `; epochs to target: first epoch at or above ${e.target}, over the runs that reached it`
      : "") +
    (e.evalTrain
      ? "; train acc, train mode: the final epoch's running accuracy over its steps (batch statistics, weights " +
        "moving; the restored best epoch under early stopping); inference mode: the training set measured after " +
        "that epoch as the test set is"
      : "") +
    "; samples/s counts training steps only."
  );
}

/** The table as GitHub markdown, with the experiment and what its figures are, for table.md. */
export function groupTableMarkdown(groups: GroupSummary[], results: Results): string {
  const { head, rows } = groupTableCells(groups, results);
  const cell = (c: TableCell) => `${c.text}${c.note ? ` (${c.note})` : ""}`.replace(/\|/g, "\\|");
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    `Experiment \`${results.experiment.name}\` of ${results.spec.file}: mean ± sd over each group's runs ` +
      `(${results.cells.length} of ${results.totalCells} cells finished).`,
    "",
    line(head),
    line(head.map(() => "---")),
    ...rows.map((r) => line(r.map(cell))),
    "",
    tableNote(results),
    "",
  ].join("\n");
}
