// IR validation with ajv against the schema derived from the TypeBox definitions (schema.ts), so JSON written
// by hand or by another tool is checked before the checker or a back end trusts it.
import { Ajv, type ErrorObject } from "ajv";
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { chainToGraph } from "./graph.ts";
import { IR_VERSION, LayerSchema, ProgramSchema, READABLE_IR_VERSIONS, type Program } from "./schema.ts";

const ajv = new Ajv({ allErrors: true, strict: true, strictTuples: false, discriminator: true });
/**
 * The program schema as ajv checks it: the node union dispatched on `op` (ajv's discriminator) instead of tried
 * member by member, which with allErrors made a 50-node graph's validation most of its compile time. The
 * published schema (irJsonSchema) keeps plain JSON Schema's anyOf; both accept the same documents.
 */
function withDiscriminatedNodes(schema: typeof ProgramSchema): object {
  const copy = JSON.parse(JSON.stringify(schema));
  copy.properties.models.items.properties.layers.items = {
    type: "object",
    properties: { op: { type: "string" } },
    required: ["op"],
    discriminator: { propertyName: "op" },
    oneOf: LayerSchema.anyOf,
  };
  return copy;
}
const validateProgram = ajv.compile<Program>(withDiscriminatedNodes(ProgramSchema));
// Layers are a union: ajv reports every member's complaint. Validating a layer against the member its `op`
// names gives the one error that matters ("unknown property 'unitz'", not "op must be 'flatten'").
const layerValidators = new Map(
  LayerSchema.anyOf.map((member) => [member.properties.op.const as string, ajv.compile(member)] as const),
);

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

/**
 * Version 1 IR (a model was a chain of layers) as version 2: every layer takes the one before it. Where the
 * document is malformed the schema says so afterwards; nothing here assumes its shape.
 */
function upgradeFromVersion1(doc: { models?: unknown }): unknown {
  const models = Array.isArray(doc.models)
    ? doc.models.map((m: unknown) =>
        typeof m === "object" && m !== null && "layers" in m ? { ...m, layers: chainToGraph(m.layers) } : m,
      )
    : doc.models;
  return { ...doc, irVersion: IR_VERSION, models };
}

/** Checks a parsed JSON value against the IR schema; returns diagnostics (E005/E006) on failure, none on success. */
export function validateIR(value: unknown, file?: string): { program?: Program; diagnostics: Diagnostic[] } {
  const extras = file === undefined ? {} : { file };
  const version = (value as { irVersion?: unknown } | null)?.irVersion;
  if (
    typeof value === "object" &&
    value !== null &&
    !(READABLE_IR_VERSIONS as readonly unknown[]).includes(version)
  ) {
    return {
      diagnostics: [
        diagnostic(
          "E006",
          { found: JSON.stringify(version ?? null), supported: READABLE_IR_VERSIONS.join(" and ") },
          extras,
        ),
      ],
    };
  }
  if (version === 1) value = upgradeFromVersion1(value as { models?: unknown });
  if (validateProgram(value)) return { program: value, diagnostics: [] };
  const found: { path: string; reason: string }[] = [];
  const layerPath = /^\/models\/(\d+)\/layers\/(\d+)(?:\/|$)/;
  const layersSeen = new Set<string>();
  for (const e of validateProgram.errors ?? []) {
    const m = layerPath.exec(e.instancePath);
    if (!m) {
      if (e.keyword !== "anyOf") found.push({ path: e.instancePath, reason: describe(e) });
      continue;
    }
    const key = `/models/${m[1]}/layers/${m[2]}`;
    if (layersSeen.has(key)) continue;
    layersSeen.add(key);
    const layer = (value as { models: { layers: unknown[] }[] }).models[Number(m[1])]!.layers[Number(m[2])];
    const op = (layer as { op?: unknown } | null)?.op;
    const validate = typeof op === "string" ? layerValidators.get(op) : undefined;
    if (!validate) {
      found.push({
        path: `${key}/op`,
        reason: `unknown op ${JSON.stringify(op ?? null)} (ops: ${[...layerValidators.keys()].join(", ")})`,
      });
      continue;
    }
    validate(layer);
    for (const le of validate.errors ?? []) found.push({ path: key + le.instancePath, reason: describe(le) });
  }
  const unique = new Map(found.map((f) => [`${f.path} ${f.reason}`, f] as const));
  return {
    diagnostics: [...unique.values()].map((f) =>
      diagnostic("E005", { path: f.path.replace(/^\//, "").replace(/\//g, "."), reason: f.reason }, extras),
    ),
  };
}
