// Experiments: results.json on disk. Written after every finished cell (temporary file + rename, so an
// interrupted run leaves the last whole version), read back for --resume, which refuses when what the run
// trains changed (its IR, not its text: comments and layout do not count) or the finished cells are not cells of
// this grid (other --epochs, --limit, ...).
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fail, NncError } from "../diagnostics/index.ts";
import type { Experiment, Program } from "../ir/schema.ts";
import { writeFileAtomic } from "../save/atomic.ts";
import { MAX_JSON_BYTES, printable, readFolderFile, requireFolderFile } from "../save/folder-file.ts";
import { canonicalJson, stripSpans } from "../util/canonical-json.ts";
import type { Cell } from "./grid.ts";
import { validateResults, type CellResult, type Results } from "./results-schema.ts";

export const RESULTS_FILE = "results.json";

export const resultsPath = (dir: string) => join(dir, RESULTS_FILE);
export const hasResults = (dir: string) => existsSync(resultsPath(dir));

/**
 * Reads and validates results.json (E602 when it is damaged or not results). Read through the model folder's
 * door (src/save/folder-file.ts): a run folder may be shared too, so results.json that is a FIFO (which would
 * block), a device, a link out of the folder or a file of gigabytes is refused before it is read.
 */
export function readResults(dir: string): Results {
  let value: unknown;
  try {
    const file = requireFolderFile(dir, RESULTS_FILE, RESULTS_FILE, (shown) =>
      fail("E001", { file: shown, reason: "it does not exist" }),
    );
    value = JSON.parse(readFolderFile(file, MAX_JSON_BYTES, RESULTS_FILE).toString("utf8"));
  } catch (e) {
    const why = e instanceof NncError ? e.diagnostic.message : (e as Error).message;
    fail("E602", { dir, detail: `${RESULTS_FILE} cannot be read: ${printable(why)}` });
  }
  const problems = validateResults(value);
  if (problems.length > 0) {
    fail("E602", {
      dir,
      detail: `${RESULTS_FILE} is not experiment results (${problems.slice(0, 3).join("; ")})`,
    });
  }
  return value as Results;
}

/**
 * What an experiment's run means: the IR of the models it compares, the file's train settings and the
 * experiment itself, without source positions. Cell ids name a model only by its name, so this is what tells
 * that a compared model's layers changed; a comment, a blank line or a reformatted spec leaves it unchanged.
 */
export function experimentIrSha256(program: Program, experiment: Experiment): string {
  const models = program.models.filter((m) => experiment.compare.includes(m.name));
  const meaning = stripSpans({ models, train: program.train, experiment });
  return createHash("sha256").update(canonicalJson(meaning)).digest("hex");
}

/**
 * The finished cells of an earlier run that this grid can keep. Refuses (E602) when what the run trains
 * changed (results written before irSha256 existed are compared by the spec's text) or when a finished cell is
 * no cell of this grid: mixing settings would make groups of unlike runs.
 */
export function resumableCells(
  dir: string,
  previous: Results,
  current: { specSha256: string; irSha256: string; experiment: string; grid: Cell[] },
): CellResult[] {
  const { specSha256, irSha256, experiment, grid } = current;
  const [then, now, what] =
    previous.spec.irSha256 !== undefined
      ? [previous.spec.irSha256, irSha256, "the compared models, train settings or experiment changed"]
      : [previous.spec.sha256, specSha256, "the spec changed"];
  if (then !== now) {
    fail("E602", {
      dir,
      detail:
        `${what} since these results were written (sha256 ${then.slice(0, 12)}... then, ` +
        `${now.slice(0, 12)}... now): run it into another --out, or pass --force to start over`,
    });
  }
  if (previous.experiment.name !== experiment) {
    fail("E602", {
      dir,
      detail: `it holds experiment '${printable(previous.experiment.name)}', not '${experiment}'`,
    });
  }
  const ids = new Set(grid.map((c) => c.id));
  const foreign = previous.cells.filter((c) => !ids.has(c.id));
  if (foreign.length > 0) {
    const was = previous.options;
    fail("E602", {
      dir,
      detail:
        `${foreign.length} finished cell(s) were trained with other settings than this run's ` +
        `(then: epochs ${printable(String(was.epochs ?? "from the spec"))}, ` +
        `limit ${printable(String(was.limit ?? "none"))}): ` +
        "resume with the same --epochs and --limit",
    });
  }
  return previous.cells;
}

/** Holds the results document of a run and rewrites results.json whenever a cell finishes. */
export class ResultsWriter {
  constructor(
    readonly dir: string,
    readonly results: Results,
  ) {}

  add(cell: CellResult): void {
    const cells = this.results.cells.filter((c) => c.id !== cell.id);
    cells.push(cell);
    cells.sort((a, b) => a.index - b.index);
    this.results.cells = cells;
    this.results.updatedAt = new Date().toISOString();
    this.write();
  }

  write(): void {
    writeFileAtomic(resultsPath(this.dir), JSON.stringify(this.results, null, 1) + "\n");
  }
}
