// nnc data SOURCE: what a data source holds (counts per split, shape, classes, per-class counts, value range),
// and the choices nnc made reading it (a CSV's label column and scale, with the reason).
import { loadDataset } from "../../data/index.ts";
import { describeDataset, formatDatasetDescription } from "../../data/describe.ts";
import type { DataRef } from "../../ir/schema.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";

/** `--label 2` and `--label -1` are indexes, as `label=2` is in a spec; anything else a column name. */
const labelOption = (text: string): string | number => (/^-?\d+$/.test(text.trim()) ? Number(text) : text);

export async function dataCommand(
  io: CliIO,
  source: string,
  opts: { validation?: number; limit?: number; label?: string; scale?: number; json?: boolean },
): Promise<number> {
  const ref: DataRef = {
    source,
    ...(opts.validation ? { validation: opts.validation } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
    ...(opts.scale ? { scale: opts.scale } : {}),
    ...(opts.label !== undefined ? { label: labelOption(opts.label) } : {}),
  };
  const dataset = await loadDataset(ref);
  const description = describeDataset(dataset);
  io.out(
    opts.json ? JSON.stringify(description, null, 2) + "\n" : formatDatasetDescription(description) + "\n",
  );
  return EXIT.ok;
}
