// nnc data SOURCE: what a data source holds (counts per split, shape, classes, per-class counts, value range).
import { loadDataset } from "../../data/index.ts";
import { describeDataset, formatDatasetDescription } from "../../data/describe.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";

export async function dataCommand(
  io: CliIO,
  source: string,
  opts: { validation?: number; limit?: number; json?: boolean },
): Promise<number> {
  const ref = {
    source,
    ...(opts.validation ? { validation: opts.validation } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
  };
  const dataset = await loadDataset(ref);
  const description = describeDataset(dataset);
  io.out(
    opts.json ? JSON.stringify(description, null, 2) + "\n" : formatDatasetDescription(description) + "\n",
  );
  return EXIT.ok;
}
