// results.json's and history.json's record of what early stopping did are one schema (src/save/schemas.ts), so
// they cannot drift apart.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ResultsSchema } from "../../src/experiment/results-schema.ts";
import { EarlyStopRecordSchema } from "../../src/save/schemas.ts";

const S = suite("results.json schema");

S("a cell's earlyStop is history's EarlyStopRecordSchema", () => {
  const cell = ResultsSchema.properties.cells.items;
  // Type.Optional copies the schema: equal to it, and equal to history's.
  assert.equal(
    JSON.parse(JSON.stringify(cell.properties.earlyStop)),
    JSON.parse(JSON.stringify(EarlyStopRecordSchema)),
  );
});

S.run();
