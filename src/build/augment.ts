// Building the IR: `augment` statements and `vary augment` values. A value is the text written after `augment`
// ("flip=horizontal crop=2", or none), read by the same grammar and binder as the statement.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import type { Augment } from "../ir/augment.ts";
import type { Span } from "../ir/schema.ts";
import { parseSource } from "../parse/parse.ts";
import { augmentFromValues, AUGMENT_SIGNATURE } from "./augment-signature.ts";
import { bindStatement, type Bound } from "./bind.ts";

/**
 * The IR of a bound `augment` statement: `{}` for `augment none` (no augmentation, also over an augmented base
 * train), the options given otherwise. E240 for `augment` with nothing, E241 for `none` with options.
 */
export function buildAugment(bound: Bound, span: Span, diags?: Diagnostic[]): Augment | undefined {
  const none = bound.values.get("MODE") === "none";
  const augment = augmentFromValues(bound.values);
  const given = Object.keys(augment).length > 0;
  if (none && given) {
    diags?.push(diagnostic("E241", {}, { span }));
    return undefined;
  }
  if (!none && !given) {
    diags?.push(diagnostic("E240", {}, { span }));
    return undefined;
  }
  return { ...augment, span };
}

/**
 * A `vary augment` value: `none`, or options as written after `augment`. The augmentation (`{}` for none), or
 * why the text is none (the first problem, as the statement would report it).
 */
export function parseAugmentText(text: string): { augment: Augment } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === "none") return { augment: {} };
  const prefix = "augment ";
  const parsed = parseSource(prefix + trimmed);
  const first = parsed.diagnostics.find((d) => d.severity === "error");
  if (first) return { error: first.message };
  const items = parsed.tree.items.filter((i) => i.kind !== "comment");
  const stmt = items[0];
  if (items.length !== 1 || stmt?.kind !== "statement")
    return { error: 'write the options of one augment statement, e.g. "flip=horizontal crop=2"' };
  const diags: Diagnostic[] = [];
  const bound = bindStatement(stmt, AUGMENT_SIGNATURE, diags);
  const augment = bound && buildAugment(bound, [0, 0], diags);
  if (!augment || diags.length > 0) {
    const d = diags[0];
    if (!d) return { error: "not an augmentation" };
    return { error: d.help && !d.help.startsWith("usage:") ? `${d.message} (${d.help})` : d.message };
  }
  delete augment.span;
  return { augment };
}
