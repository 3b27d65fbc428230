// resolveDataPaths: relative idx:/csv: paths in a data reference resolved against a folder (the spec's), the rest
// left as written; loadDataset reads the resolved reference from any working folder.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { loadDataset, resolveDataPaths } from "../../src/data/index.ts";
import { tempDir } from "../helpers.ts";

const paths = suite("data: resolveDataPaths");

paths("a relative idx:/csv: path is resolved against the base folder; options are kept", () => {
  assert.equal(resolveDataPaths({ source: "idx:./digits", limit: 10 }, "/specs/study"), {
    source: "idx:/specs/study/digits",
    limit: 10,
  });
  assert.is(
    resolveDataPaths({ source: "csv:../d/train.csv" }, "/specs/study").source,
    "csv:/specs/d/train.csv",
  );
  // The prefix in any case, as loadDataset accepts it.
  assert.is(resolveDataPaths({ source: " CSV: x.csv" }, "/b").source, "csv:/b/x.csv");
});

paths("named sources, absolute paths and an empty path come back unchanged", () => {
  for (const source of ["mnist", "fashion-mnist", "idx:/abs/digits", "csv:", "cvs:x.csv"]) {
    const ref = { source, validation: 0.1 };
    assert.is(resolveDataPaths(ref, "/base"), ref, source);
  }
});

paths("the resolved reference loads from another working folder", async () => {
  const dir = tempDir("paths");
  writeFileSync(join(dir, "d.csv"), ["0,1,2", "1,3,4", "0,5,6", "1,7,8", "0,9,10"].join("\n"));
  const ref = resolveDataPaths({ source: "csv:d.csv", validation: 0.4 }, dir);
  const ds = await loadDataset(ref, { baseDir: join(dir, "elsewhere") });
  assert.is(ds.train.count + ds.validation.count, 5);
});

paths.run();
