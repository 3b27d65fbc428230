// Writes schema/nnc-ir.schema.json from the TypeBox definitions (src/ir/schema.ts). Generated: never edit the
// JSON by hand; test/ir/schema.test.ts fails when it is stale. Run: npx tsx scripts/gen-schema.ts
import { writeFileSync } from "node:fs";
import { irJsonSchema } from "../src/ir/validate.ts";

export const SCHEMA_PATH = new URL("../schema/nnc-ir.schema.json", import.meta.url);
export const schemaText = () => JSON.stringify(irJsonSchema(), null, 2) + "\n";

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(SCHEMA_PATH, schemaText());
  console.log("wrote schema/nnc-ir.schema.json");
}
