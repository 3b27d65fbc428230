// Building the IR: one bound layer statement -> one graph node, without its final name (which depends on the
// whole model: see names.ts) or its inputs (which depend on where it stands: see graph.ts). What the node holds
// is its op module's business (src/ops/); defaults come from the signature, so the reference and the IR agree.
import type { Layer, Span } from "../ir/schema.ts";
import { opForStatement } from "../ops/index.ts";
import type { ArgReader } from "../ops/op.ts";
import type { Bound, BoundValue } from "./bind.ts";
import type { Signature } from "./signatures.ts";

/** The value given for a parameter, else its default from the table (undefined for an optional one). */
export function valueOf<T extends BoundValue | undefined>(sig: Signature, bound: Bound, name: string): T {
  const given = bound.values.get(name);
  if (given !== undefined) return given as T;
  const spec = [...sig.positional, ...sig.options].find((p) => p.name === name);
  if (!spec) throw new Error(`internal: ${sig.name} has no parameter ${name}`);
  return spec.default as T;
}

/** Spans of the arguments given, keyed by the IR field each fills. */
function argSpansOf(sig: Signature, bound: Bound): Record<string, Span> {
  const out: Record<string, Span> = {};
  for (const p of [...sig.positional, ...sig.options]) {
    const span = bound.spans.get(p.name);
    if (span && p.field) out[p.field] = span;
  }
  return out;
}

/** Builds the node a layer statement writes (`relu` writes an activation node). */
/** A node as built from its statement: name "" unless `name=` was given, inputs still to be wired. */
export function makeLayer(sig: Signature, bound: Bound, span: Span): Layer {
  const op = opForStatement(sig.name);
  if (!op) throw new Error(`internal: no op module for layer statement '${sig.name}'`);
  const fields = op.build(sig, ((name: string) => valueOf(sig, bound, name)) as ArgReader);
  return {
    op: op.op,
    name: (bound.values.get("name") as string | undefined) ?? "",
    inputs: [],
    span,
    argSpans: argSpansOf(sig, bound),
    ...fields,
  } as Layer;
}
