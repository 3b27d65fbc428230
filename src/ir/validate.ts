// IR validation with ajv against the schema derived from the TypeBox definitions (schema.ts), so JSON written
// by hand or by another tool is checked before the checker or a back end trusts it. A build ships the program
// validator as ajv standalone code (validate-codegen.ts), used while its key matches the schema it was made from;
// from the sources (or a stale build) ajv compiles the schema at first use, ~0.5 s.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type { Ajv as AjvInstance, ErrorObject, ValidateFunction } from "ajv";
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { chainToGraph } from "./graph.ts";
import { IR_VERSION, LAYER_SCHEMAS, ProgramSchema, READABLE_IR_VERSIONS, type Program } from "./schema.ts";
import { precompiled } from "./validate-precompiled.ts";

/**
 * The ajv options of every IR validator, compiled here or generated ahead (validate-codegen.ts). `inlineRefs:
 * false` keeps each definition of programValidatorSchema its own function.
 */
export const AJV_OPTIONS = {
  allErrors: true,
  strict: true,
  strictTuples: false,
  discriminator: true,
  inlineRefs: false,
} as const;

/** ajv, loaded only where a schema is compiled here: a build's precompiled validator does not need it. */
const requireHere = createRequire(import.meta.url);
let ajvInstance: AjvInstance | undefined;
const ajv = (): AjvInstance =>
  (ajvInstance ??= new (requireHere("ajv") as typeof import("ajv")).Ajv({ ...AJV_OPTIONS }));

/**
 * The program schema as ajv checks it: the node union dispatched on `op` (ajv's discriminator) instead of tried
 * member by member, which with allErrors made a 50-node graph's validation most of its compile time. Each layer
 * kind and the experiments are definitions referred to, so each is a function of its own that V8 compiles when a
 * document first needs it: with one function of ~0.5 MB, a build's first validation of specs/mnist-bn.nn took
 * 72-109 ms (a loaded machine), 25-35 ms so. The published schema (irJsonSchema) keeps plain JSON Schema's
 * anyOf inline; both accept the same documents.
 */
export function programValidatorSchema(): object {
  const copy = JSON.parse(JSON.stringify(ProgramSchema));
  const definitions: Record<string, unknown> = {};
  const ref = (name: string, schema: unknown) => {
    definitions[name] = schema;
    return { $ref: `#/definitions/${name}` };
  };
  copy.properties.models.items.properties.layers.items = {
    type: "object",
    properties: { op: { type: "string" } },
    required: ["op"],
    discriminator: { propertyName: "op" },
    oneOf: LAYER_SCHEMAS.map((member) => ref(`layer-${member.properties.op!.const}`, member)),
  };
  copy.properties.experiments.items = ref("experiment", copy.properties.experiments.items);
  return { ...copy, definitions };
}

/**
 * What a program validator is made from (ajv's version, the options, the schema), hashed: a precompiled
 * validator is used only under the key it was generated with, so one made from another schema never runs.
 */
export function validatorKey(): string {
  const version = (requireHere("ajv/package.json") as { version: string }).version;
  const made = JSON.stringify({ ajv: version, options: AJV_OPTIONS, schema: programValidatorSchema() });
  return createHash("sha256").update(made).digest("hex").slice(0, 32);
}

/** A program validator generated ahead of time (validate-precompiled.ts holds one in a build). */
export interface PrecompiledValidator {
  key: string;
  program: ValidateFunction<Program>;
}

let programValidator: ValidateFunction<Program> | undefined;
let programSource: "precompiled" | "compiled" | undefined;
/** Where the program validator in use came from, once one validated something (tests read it). */
export const programValidatorSource = (): "precompiled" | "compiled" | undefined => programSource;

function validateProgram(value: unknown): value is Program {
  if (!programValidator) {
    if (precompiled !== undefined && precompiled.key === validatorKey()) {
      programValidator = precompiled.program;
      programSource = "precompiled";
    } else {
      programValidator = ajv().compile<Program>(programValidatorSchema());
      programSource = "compiled";
    }
  }
  return programValidator(value);
}

// Layers are a union: ajv reports every member's complaint. Validating a layer against the member its `op`
// names gives the one error that matters ("unknown property 'unitz'", not "op must be 'flatten'"). Compiled
// when a layer is wrong, for that op only.
const layerSchemas = new Map(LAYER_SCHEMAS.map((member) => [member.properties.op!.const as string, member]));
const layerValidators = new Map<string, ValidateFunction>();
function layerValidator(op: unknown): ValidateFunction | undefined {
  if (typeof op !== "string") return undefined;
  const schema = layerSchemas.get(op);
  if (!schema) return undefined;
  let validate = layerValidators.get(op);
  if (!validate) layerValidators.set(op, (validate = ajv().compile(schema)));
  return validate;
}

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
  for (const e of programValidator!.errors ?? []) {
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
    const validate = layerValidator(op);
    if (!validate) {
      found.push({
        path: `${key}/op`,
        reason: `unknown op ${JSON.stringify(op ?? null)} (ops: ${[...layerSchemas.keys()].join(", ")})`,
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
