// IR validation with ajv against the schema derived from the TypeBox definitions (schema.ts), so JSON written
// by hand or by another tool is checked before the checker or a back end trusts it.
import { Ajv, type ErrorObject } from "ajv";
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { IR_VERSION, ProgramSchema, type Program } from "./schema.ts";

const ajv = new Ajv({ allErrors: true, strict: true, strictTuples: false });
const validateProgram = ajv.compile<Program>(ProgramSchema);

/** The JSON Schema of the IR, as written to schema/nnc-ir.schema.json. */
export function irJsonSchema(): object {
  return { $schema: "http://json-schema.org/draft-07/schema#", ...JSON.parse(JSON.stringify(ProgramSchema)) };
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case "additionalProperties":
      return `unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    case "enum":
      return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** Checks a parsed JSON value against the IR schema; returns diagnostics (E005/E006) on failure, none on success. */
export function validateIR(value: unknown, file?: string): { program?: Program; diagnostics: Diagnostic[] } {
  const extras = file === undefined ? {} : { file };
  const version = (value as { irVersion?: unknown } | null)?.irVersion;
  if (typeof value === "object" && value !== null && version !== IR_VERSION) {
    return {
      diagnostics: [diagnostic("E006", { found: JSON.stringify(version ?? null), supported: IR_VERSION }, extras)],
    };
  }
  if (validateProgram(value)) return { program: value, diagnostics: [] };
  // A union of layer shapes yields one error per member; keep the most specific ones (the deepest paths).
  const errors = validateProgram.errors ?? [];
  const deepest = Math.max(...errors.map((e) => e.instancePath.split("/").length));
  const shown = errors.filter((e) => e.instancePath.split("/").length === deepest && e.keyword !== "anyOf");
  const unique = new Map(
    (shown.length ? shown : errors).map((e) => [`${e.instancePath} ${describe(e)}`, e] as const),
  );
  return {
    diagnostics: [...unique.values()].map((e) =>
      diagnostic("E005", { path: e.instancePath.replace(/^\//, "").replace(/\//g, "."), reason: describe(e) }, extras),
    ),
  };
}
