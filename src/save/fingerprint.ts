// Checkpoints: the fingerprint of what a run's checkpoint is only valid for — the model, the train settings
// that shape the trajectory, the data and the seed — kept part by part, so a refused --resume can say what
// changed. Spans and the epoch count are left out: moving text in the spec or asking for more epochs does not
// invalidate the epochs already trained.
import { createHash } from "node:crypto";
import type { Program } from "../ir/schema.ts";
import { canonicalJson, stripSpans } from "../util/canonical-json.ts";

export interface Fingerprint {
  /** sha256 over `parts`. */
  sha256: string;
  parts: Record<string, unknown>;
}

export function checkpointFingerprint(program: Program, modelName: string): Fingerprint {
  const model = program.models.find((m) => m.name === modelName);
  if (!model) throw new Error(`checkpointFingerprint: no model ${modelName} in the program`);
  // What a run watches (issue 19) does not change its training: a resumed run may watch other layers.
  const { epochs: _epochs, span: _span, watch: _watch, data, seed, ...settings } = stripSpans(program.train);
  const parts: Record<string, unknown> = {
    model: stripSpans(model),
    ...settings,
    data,
    seed,
  };
  return { sha256: createHash("sha256").update(canonicalJson(parts)).digest("hex"), parts };
}

const brief = (value: unknown): string => {
  const text = value === undefined ? "(unset)" : canonicalJson(value);
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
};

const learningRate = (f: Fingerprint): unknown => (f.parts.optimizer as { lr?: unknown } | undefined)?.lr;

/**
 * Whether a checkpoint written under `saved` may be resumed under `current`: the same fingerprint, or one that
 * differs only in a lower learning rate (the way on after a divergence: the slots and weights stay valid, only
 * the steps from here on are smaller). Otherwise what changed, in words.
 */
export function resumeCheck(
  saved: Fingerprint,
  current: Fingerprint,
): { ok: true; lowerLr?: { from: number; to: number } } | { ok: false; changes: string[] } {
  if (saved.sha256 === current.sha256) return { ok: true };
  const from = learningRate(saved);
  const to = learningRate(current);
  if (typeof from === "number" && typeof to === "number" && to < from) {
    const optimizer = { ...(saved.parts.optimizer as object), lr: to };
    if (canonicalJson({ ...saved.parts, optimizer }) === canonicalJson(current.parts)) {
      return { ok: true, lowerLr: { from, to } };
    }
  }
  return { ok: false, changes: describeChanges(saved, current) };
}

/** What differs between the fingerprint a checkpoint was written with and the current one, in words. */
export function describeChanges(saved: Fingerprint, current: Fingerprint): string[] {
  const keys = [...new Set([...Object.keys(saved.parts), ...Object.keys(current.parts)])];
  return keys.flatMap((key) => {
    const a = saved.parts[key];
    const b = current.parts[key];
    if (canonicalJson(a) === canonicalJson(b)) return [];
    if (key === "model") return [describeModelChange(a, b)];
    return [`${key} ${brief(a)} -> ${brief(b)}`];
  });
}

interface LayerLike {
  name: string;
  op: string;
}
function describeModelChange(a: unknown, b: unknown): string {
  const before = (a as { name?: string; layers?: LayerLike[] } | undefined) ?? {};
  const after = (b as { name?: string; layers?: LayerLike[] } | undefined) ?? {};
  if (before.name !== after.name) return `model '${before.name}' -> '${after.name}'`;
  const la = before.layers ?? [];
  const lb = after.layers ?? [];
  const changed = lb
    .filter((layer, i) => canonicalJson(layer) !== canonicalJson(la[i]))
    .map((layer) => layer.name);
  if (la.length !== lb.length)
    return `model '${after.name}' has ${lb.length} layers, the run had ${la.length}`;
  return `model '${after.name}' changed in layer${changed.length === 1 ? "" : "s"} ${changed.join(", ")}`;
}
