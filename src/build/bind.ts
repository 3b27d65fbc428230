// Building the IR: binds one statement's arguments to its signature (signatures.ts) — positional values in
// order, key=value options by key — converting each to its type and reporting every mismatch, so the
// builder only ever sees well-typed values. Gives the values by parameter name and their spans.
import { diagnostic, didYouMean, type Diagnostic } from "../diagnostics/index.ts";
import type { Span, Statement, Value } from "../parse/syntax-tree.ts";
import { foreignOptionHelp, foreignValueHelp } from "./foreign-names.ts";
import { describeRange, expectedText, inRange, usage, type ParamSpec, type Signature } from "./signatures.ts";

export type Scalar = number | boolean | string;
export type BoundValue = Scalar | number[] | Scalar[];

export interface Bound {
  /** By ParamSpec.name; only the arguments given (defaults are the builder's business). */
  values: Map<string, BoundValue>;
  spans: Map<string, Span>;
}

/** The source text of a value as written, for messages that name it. */
const valueText = (v: Value): string => (v.kind === "string" ? JSON.stringify(v.value) : v.text);

/**
 * Converts a value to a parameter's type, or reports why it cannot (and returns undefined).
 * `op` names the statement in messages ('dense', 'adam').
 */
function convertValue(v: Value, spec: ParamSpec, op: string, diags: Diagnostic[]): BoundValue | undefined {
  const type = spec.type;
  const wrongType = (help?: string) => {
    diags.push(
      diagnostic(
        "E202",
        { op, what: spec.name, expected: expectedText(type), got: valueText(v) },
        help ? { span: v.span, help } : { span: v.span },
      ),
    );
    return undefined;
  };
  const outOfRange = (constraint: string) => {
    diags.push(
      diagnostic("E206", { what: `'${op}' ${spec.name}`, constraint, got: valueText(v) }, { span: v.span }),
    );
    return undefined;
  };
  // 1e400 reads as Infinity, which JSON (the IR) cannot hold: as invalid a number as 1.2.3.
  if (v.kind === "invalid" || (v.kind === "number" && !Number.isFinite(v.value))) {
    diags.push(diagnostic("E101", { text: v.text }, { span: v.span }));
    return undefined;
  }
  switch (type.kind) {
    case "int":
    case "number": {
      if (v.kind !== "number" || (type.kind === "int" && !Number.isInteger(v.value))) return wrongType();
      // Past 2^53 integers are no longer exact (1e20 + 1 === 1e20): no count or size nnc takes gets there.
      if (type.kind === "int" && !Number.isSafeInteger(v.value)) {
        return outOfRange(`${describeRange(type.range ?? {}, true)} and at most ${Number.MAX_SAFE_INTEGER}`);
      }
      return inRange(v.value, type.range)
        ? v.value
        : outOfRange(describeRange(type.range ?? {}, type.kind === "int"));
    }
    case "bool":
      if (v.kind === "word" && (v.text === "true" || v.text === "false")) return v.text === "true";
      return wrongType(v.kind === "word" ? foreignValueHelp(v.text) : undefined);
    case "enum": {
      if (v.kind !== "word" && v.kind !== "string") return wrongType();
      const text = v.kind === "word" ? v.text : v.value;
      if (type.values.includes(text)) return text;
      const alias = type.aliases?.[text];
      if (alias !== undefined) return alias;
      return wrongType(didYouMean(text, [...type.values, ...Object.keys(type.aliases ?? {})]));
    }
    case "dims":
    case "pair": {
      let dims: number[];
      if (v.kind === "number" && Number.isInteger(v.value))
        dims = type.kind === "pair" ? [v.value, v.value] : [v.value];
      else if (v.kind === "dims") dims = v.values;
      else return wrongType();
      if (type.kind === "pair" && dims.length !== 2) return wrongType();
      if (type.kind === "dims" && type.inferred) {
        if (dims.some((d) => !Number.isSafeInteger(d))) return outOfRange("made of integers");
      } else if (dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
        return outOfRange(`made of integers in [1, ${Number.MAX_SAFE_INTEGER}]`);
      }
      return dims;
    }
    case "text":
    case "name":
      if (v.kind === "word") return v.text;
      if (v.kind === "string" && v.value.length > 0) return v.value;
      return wrongType();
    case "any":
      if (v.kind === "number") return v.value;
      if (v.kind === "string") return v.value;
      return v.text;
  }
}

/**
 * Binds a statement's arguments to a signature. Returns undefined when any argument is wrong (all problems are
 * reported, not only the first). `args` defaults to the statement's own; `optimizer adam lr=..` passes the rest.
 */
export function bindStatement(
  stmt: Statement,
  sig: Signature,
  diags: Diagnostic[],
  op: string = sig.name,
  args = stmt.args,
): Bound | undefined {
  const before = diags.length;
  const values = new Map<string, BoundValue>();
  const spans = new Map<string, Span>();
  // Built only when a message needs it: binding is on the hot path of every statement.
  const use = () => usage(sig);
  let slot = 0;
  for (const arg of args) {
    if (arg.kind === "option") {
      const key = arg.key.text;
      // A class index keys one of the statement's keyed options (`class_weight 0=1.0`), if it has them.
      const keyed = sig.keyedOptions && /^(0|[1-9][0-9]*)$/.test(key);
      const spec = keyed
        ? { name: key, type: sig.keyedOptions!.type, doc: sig.keyedOptions!.doc }
        : sig.options.find((o) => o.name === key);
      if (!spec) {
        const help =
          foreignOptionHelp(key) ??
          didYouMean(
            key,
            sig.options.map((o) => o.name),
          );
        diags.push(
          diagnostic(
            "E201",
            { key, op },
            help ? { span: arg.span, help } : { span: arg.span, help: `usage: ${use()}` },
          ),
        );
        continue;
      }
      if (values.has(key) || spans.has(key)) {
        diags.push(diagnostic("E205", { key }, { span: arg.span }));
        continue;
      }
      spans.set(key, arg.span);
      const value = convertValue(arg.value, spec, op, diags);
      if (value !== undefined) values.set(key, value);
      continue;
    }
    const spec = sig.positional[slot];
    if (!spec) {
      diags.push(diagnostic("E204", { op, got: valueText(arg), usage: use() }, { span: arg.span }));
      continue;
    }
    const value = convertValue(arg, spec, op, diags);
    if (spec.variadic) {
      const list = (values.get(spec.name) as Scalar[] | undefined) ?? [];
      if (value !== undefined) list.push(value as Scalar);
      values.set(spec.name, list);
      const prev = spans.get(spec.name);
      spans.set(spec.name, prev ? [prev[0], arg.span[1]] : arg.span);
    } else {
      slot++;
      spans.set(spec.name, arg.span);
      if (value !== undefined) values.set(spec.name, value);
    }
  }
  for (const p of sig.positional) {
    if (p.required && !spans.has(p.name)) {
      diags.push(diagnostic("E203", { op, what: `${p.name} (${p.doc})`, usage: use() }, { span: stmt.span }));
    }
  }
  return diags.length === before ? { values, spans } : undefined;
}
