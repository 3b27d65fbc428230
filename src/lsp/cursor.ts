// Language server, positions: what stands at an offset of an analysed document — the statement, which of its
// parts (head, option key or value, positional value), the signature it binds to (the compiler's table, so a
// setting added to nnc is known here with no change), or the block definition a use names.
import { signatureOf, type ParamSpec, type Signature } from "../build/signatures.ts";
import { OPTIMIZERS } from "../ir/schema.ts";
import type { Arg, Block, Statement, Value } from "../parse/syntax-tree.ts";
import type { DocumentAnalysis, StatementPlace } from "./document.ts";

const within = (span: readonly [number, number], offset: number) => span[0] <= offset && offset <= span[1];

/** The innermost statement at an offset (its end included, where the cursor stands after typing). */
export function statementAt(analysis: DocumentAnalysis, offset: number): StatementPlace | undefined {
  // Statements are in source order: a binary search would do, but 20,000 comparisons take well under 1 ms.
  let found: StatementPlace | undefined;
  for (const place of analysis.statements) {
    if (place.stmt.span[0] > offset) break;
    if (within(place.stmt.span, offset)) found = place;
  }
  return found;
}

/** The blocks whose header (keyword and name, up to '{') holds the offset, innermost last. */
export function blockHeaderAt(analysis: DocumentAnalysis, offset: number): Block | undefined {
  let found: Block | undefined;
  const visit = (items: readonly (Statement | Block | { kind: "comment" })[]) => {
    for (const item of items) {
      if (item.kind !== "block") continue;
      const block = item as Block;
      if (!within(block.span, offset)) continue;
      const headerEnd = block.params?.at(-1)?.span[1] ?? block.args.at(-1)?.span[1] ?? block.keyword.span[1];
      if (offset <= headerEnd) found = block;
      else visit(block.items);
    }
  };
  visit(analysis.tree.items);
  return found;
}

export type ArgPart =
  | { kind: "head" }
  | { kind: "option-key"; option: Extract<Arg, { kind: "option" }> }
  | { kind: "option-value"; option: Extract<Arg, { kind: "option" }> }
  /** `index` counts the positional values before it (after an optimizer's name, in its own signature). */
  | { kind: "positional"; value: Value; index: number };

/** What part of a statement an offset is on. */
export function partAt(stmt: Statement, offset: number): ArgPart | undefined {
  if (within(stmt.head.span, offset)) return { kind: "head" };
  let index = 0;
  for (const arg of stmt.args) {
    if (arg.kind === "option") {
      if (within(arg.key.span, offset)) return { kind: "option-key", option: arg };
      if (within(arg.span, offset)) return { kind: "option-value", option: arg };
      continue;
    }
    if (within(arg.span, offset)) return { kind: "positional", value: arg, index };
    index++;
  }
  return undefined;
}

/** The signature a statement binds to, as the builder binds it: `optimizer adam ...` binds to adam's row. */
export interface Resolved {
  sig: Signature;
  /** How many positional values the statement writes before the signature's own (1 for `optimizer adam`). */
  skip: number;
}

export function resolveStatement(place: StatementPlace): Resolved | undefined {
  const sig = signatureOf(place.stmt.head.text);
  if (!sig) return undefined;
  const allowed = place.context === "experiment" ? ["experiment", "train"] : [place.context];
  if (!allowed.includes(sig.context)) return undefined;
  if (sig.name === "optimizer") {
    const first = place.stmt.args[0];
    if (first?.kind === "word" && (OPTIMIZERS as readonly string[]).includes(first.text)) {
      return { sig: signatureOf(first.text)!, skip: 1 };
    }
  }
  return { sig, skip: 0 };
}

/** The positional parameter a value at `index` fills (the last one when it is variadic). */
export function positionalSpec(sig: Signature, index: number): ParamSpec | undefined {
  const last = sig.positional.at(-1);
  return sig.positional[index] ?? (last?.variadic ? last : undefined);
}

/** The block definition a statement uses, when its head names one and it stands among layers. */
export function blockUsed(analysis: DocumentAnalysis, place: StatementPlace): Block | undefined {
  return place.context === "layer" ? analysis.blockDefinitions.get(place.stmt.head.text) : undefined;
}

/** `block basic(filters, stride=1)` as written. */
export function blockSignature(block: Block): string {
  const params = (block.params ?? []).map((p) =>
    p.default ? `${p.name.text}=${p.default.text}` : p.name.text,
  );
  return `block ${block.name?.text ?? "?"}(${params.join(", ")})`;
}
