// Language server, completion: what may be written at the cursor, read from the text before it (so it works
// while the line is half typed and does not parse) and from the compiler's signature table: statement names
// for the block the cursor is in (layer ops and activations in a model, settings in train, experiment settings
// and train settings in an experiment), options not given yet (`momentum=`), the values of an option or of the
// next positional argument (activations, initializers, optimizers, losses, ...), data sources, and model,
// block and layer names where a name is expected. Every item carries its doc.
import {
  CompletionItemKind,
  MarkupKind,
  type CompletionItem,
  type CompletionList,
  type Range,
} from "vscode-languageserver/node";
import {
  metavar,
  namesFor,
  signatureOf,
  type Context,
  type ParamSpec,
  type Signature,
} from "../build/signatures.ts";
import { SOURCES } from "../data/load.ts";
import { OPTIMIZERS } from "../ir/schema.ts";
import { lex, Tok } from "../parse/lex.ts";
import type { Block, Item } from "../parse/syntax-tree.ts";
import { blockSignature, positionalSpec } from "./cursor.ts";
import type { DocumentAnalysis } from "./document.ts";
import { KEYWORD_DOCS, signatureDoc } from "./hover.ts";

/** The statement being typed: its words before the cursor, and the partial token the cursor ends. */
interface Typing {
  /** Keywords of the blocks around the cursor, outermost first (`model`, `residual`, `train`, ...). */
  blocks: string[];
  /** The statement's tokens before the partial one: [kind, text]. */
  before: { kind: number; text: string }[];
  /** The text from the partial token's start to the cursor ('' when the cursor follows a delimiter). */
  partial: string;
  partialStart: number;
}

/** Reads the statement at the cursor from the tokens before it; braces give the blocks around it. */
function typingAt(text: string, offset: number): Typing {
  // Lex from the start of the line's enclosing text up to the cursor: a token is cut at the cursor.
  const tokens = lex(text.slice(0, offset));
  const blocks: string[] = [];
  let start = 0;
  const headOf = (from: number, to: number) => {
    for (let i = from; i < to; i++)
      if (tokens.kinds[i] === Tok.word) return text.slice(tokens.starts[i]!, tokens.ends[i]!);
    return "{";
  };
  for (let i = 0; i < tokens.count; i++) {
    const kind = tokens.kinds[i]!;
    if (kind === Tok.open) {
      blocks.push(headOf(start, i));
      start = i + 1;
    } else if (kind === Tok.close) {
      blocks.pop();
      start = i + 1;
    } else if (kind === Tok.newline || kind === Tok.semicolon) start = i + 1;
  }
  const before: { kind: number; text: string }[] = [];
  let partial = "";
  let partialStart = offset;
  for (let i = start; i < tokens.count; i++) {
    const kind = tokens.kinds[i]!;
    if (kind === Tok.comment)
      return { blocks, before: [{ kind, text: "#" }], partial: "", partialStart: offset };
    const s = tokens.starts[i]!;
    const e = tokens.ends[i]!;
    const isLast = i === tokens.count - 1 && e === offset && kind <= Tok.invalid;
    if (isLast) {
      partial = text.slice(s, e);
      partialStart = s;
    } else before.push({ kind, text: text.slice(s, e) });
  }
  return { blocks, before, partial, partialStart };
}

/** What statements the innermost block takes. */
function contextOf(blocks: readonly string[]): Context | "top" {
  if (blocks.includes("train")) return "train";
  if (blocks.includes("experiment")) return "experiment";
  return blocks.length === 0 ? "top" : "layer";
}

const markdown = (value: string) => ({ kind: MarkupKind.Markdown, value });

function statementItem(sig: Signature): CompletionItem {
  const kind =
    sig.context === "layer"
      ? CompletionItemKind.Function
      : sig.setting === "optimizer" && sig.name !== "optimizer"
        ? CompletionItemKind.Constructor
        : CompletionItemKind.Property;
  return { label: sig.name, kind, detail: sig.doc, documentation: markdown(signatureDoc(sig)) };
}

function optionItem(p: ParamSpec): CompletionItem {
  const dflt = p.default === undefined ? "" : ` (default ${String(p.default)})`;
  return {
    label: `${p.name}=`,
    kind: CompletionItemKind.Field,
    detail: `${p.name}=${metavar(p.type)}${dflt}`,
    documentation: markdown(p.doc),
    // Completing the key reopens the list for its value.
    command: { title: "values", command: "editor.action.triggerSuggest" },
  };
}

function valueItems(
  values: readonly string[],
  doc: string,
  kind: CompletionItemKind = CompletionItemKind.EnumMember,
): CompletionItem[] {
  return values.map((v) => ({ label: v, kind, detail: doc }));
}

/** Names given with `name=` anywhere in a list of items. */
function layerNames(items: readonly Item[], out: string[] = []): string[] {
  for (const item of items) {
    if (item.kind === "statement") {
      for (const arg of item.args)
        if (arg.kind === "option" && arg.key.text === "name") out.push(arg.value.text);
    } else if (item.kind === "block") layerNames(item.items, out);
  }
  return out;
}

/** The values a parameter takes, from its type; names and data sources from the document. */
function valuesFor(
  p: ParamSpec,
  sig: Signature,
  analysis: DocumentAnalysis,
  offset: number,
): CompletionItem[] {
  const type = p.type;
  if (type.kind === "enum") {
    const aliases = Object.entries(type.aliases ?? {}).map(([alias, to]) => ({
      label: alias,
      kind: CompletionItemKind.EnumMember,
      detail: `same as ${to}`,
    }));
    return [...valueItems(type.values, p.doc), ...aliases];
  }
  if (type.kind === "bool") return valueItems(["true", "false"], p.doc, CompletionItemKind.Value);
  if (type.kind === "text" && sig.name === "data") {
    return SOURCES.map((s) => {
      const prefix = s.endsWith(":PATH") ? s.slice(0, -"PATH".length) : s;
      return { label: prefix, kind: CompletionItemKind.Value, detail: s, documentation: markdown(sig.doc) };
    });
  }
  if (type.kind === "name" && sig.context === "experiment") {
    return models(analysis).map((m) => ({ label: m, kind: CompletionItemKind.Module, detail: "model" }));
  }
  if (type.kind === "name" && sig.context === "train") {
    // `watch LAYER`: the layers of the checked program's models, Keras-named ones too (dense_1), with the
    // models that have each: a watched layer must be in every model trained.
    const owners = new Map<string, string[]>();
    for (const m of analysis.program?.models ?? [])
      for (const l of m.layers) owners.set(l.name, [...(owners.get(l.name) ?? []), m.name]);
    return [...owners].map(([n, ms]) => ({
      label: n,
      kind: CompletionItemKind.Reference,
      detail: `layer of ${ms.join(", ")}`,
    }));
  }
  if (type.kind === "name" && sig.context === "layer") {
    // Names given in the model (or block) the cursor is in.
    const owner = [...analysis.models, ...analysis.blockDefinitions.values()].find(
      (b) => b.span[0] <= offset && offset <= b.span[1],
    );
    const names = layerNames(owner ? owner.items : analysis.tree.items);
    return [...new Set(names)].map((n) => ({
      label: n,
      kind: CompletionItemKind.Reference,
      detail: "layer",
    }));
  }
  return [];
}

const models = (analysis: DocumentAnalysis): string[] =>
  analysis.models.length > 0
    ? analysis.models.flatMap((m) => (m.name ? [m.name.text] : []))
    : analysis.anonymousModel
      ? [analysis.anonymousModel]
      : [];

function blockUseItems(analysis: DocumentAnalysis): CompletionItem[] {
  return [...analysis.blockDefinitions.values()].map((b: Block) => ({
    label: b.name!.text,
    kind: CompletionItemKind.Module,
    detail: blockSignature(b),
    documentation: markdown(`\`\`\`nn\n${blockSignature(b)}\n\`\`\``),
  }));
}

function keywordItems(words: readonly string[]): CompletionItem[] {
  return words.map((w) => ({
    label: w,
    kind: CompletionItemKind.Keyword,
    documentation: markdown(KEYWORD_DOCS[w] ?? ""),
  }));
}

/** Statement names and keywords that may start a statement in a context. */
function statementItems(context: Context | "top", analysis: DocumentAnalysis): CompletionItem[] {
  if (context === "train" || context === "experiment") {
    return namesFor(context).map((n) => statementItem(signatureOf(n)!));
  }
  const layers = namesFor("layer").map((n) => statementItem(signatureOf(n)!));
  const blocks = keywordItems(
    context === "top"
      ? ["model", "block", "train", "experiment", "residual", "repeat"]
      : ["residual", "repeat", "shortcut"],
  );
  return [...layers, ...blockUseItems(analysis), ...blocks];
}

/** The parameters of a block definition as a signature, so its uses complete like ops. */
function blockAsSignature(block: Block): Signature {
  const params = (block.params ?? []).map((p) => ({
    name: p.name.text,
    type: { kind: "any" } as const,
    doc: p.default ? `block parameter (default ${p.default.text})` : "block parameter",
    ...(p.default ? { default: p.default.text } : {}),
  }));
  return {
    name: block.name!.text,
    context: "layer",
    doc: blockSignature(block),
    positional: params,
    options: params,
  };
}

export function completionAt(analysis: DocumentAnalysis, offset: number): CompletionList {
  const text = analysis.doc.getText();
  const typing = typingAt(text, offset);
  const range: Range = {
    start: analysis.doc.positionAt(typing.partialStart),
    end: analysis.doc.positionAt(offset),
  };
  const list = (items: CompletionItem[]): CompletionList => ({
    isIncomplete: false,
    items: items.map((item) => ({ ...item, textEdit: { range, newText: item.label } })),
  });
  const context = contextOf(typing.blocks);
  const { before } = typing;
  if (before[0]?.text === "#" || before.some((t) => t.kind === Tok.open || t.kind === Tok.close))
    return list([]);
  if (before.length === 0) return list(statementItems(context, analysis));

  const head = before[0]!;
  if (head.kind !== Tok.word) return list([]);
  // A block header being typed (`model `, `repeat 2 `): nothing to offer but its own syntax.
  if (["model", "block", "train", "experiment", "residual", "repeat", "shortcut"].includes(head.text))
    return list([]);
  const stmtContext: Context = context === "top" ? "layer" : context;
  let sig: Signature | undefined = signatureOf(head.text);
  const allowed = stmtContext === "experiment" ? ["experiment", "train"] : [stmtContext];
  if (sig && !allowed.includes(sig.context)) sig = undefined;
  if (!sig && stmtContext === "layer") {
    const block = analysis.blockDefinitions.get(head.text);
    if (block?.name) sig = blockAsSignature(block);
  }
  if (!sig) return list([]);

  let args = before.slice(1);
  // `optimizer adam ...`: the rest completes as adam's own statement.
  if (
    sig.name === "optimizer" &&
    args[0]?.kind === Tok.word &&
    (OPTIMIZERS as readonly string[]).includes(args[0].text)
  ) {
    sig = signatureOf(args[0].text)!;
    args = args.slice(1);
  }

  // A value after `key=`.
  const last = args.at(-1);
  if (last?.kind === Tok.equals) {
    const key = args.at(-2);
    const spec = key ? sig.options.find((o) => o.name === key.text) : undefined;
    return list(spec ? valuesFor(spec, sig, analysis, offset) : []);
  }

  // Options not given yet, and the values of the next positional argument.
  const given = new Set<string>();
  let positional = 0;
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if (args[i + 1]?.kind === Tok.equals) {
      given.add(t.text);
      i += 2; // key = value
      continue;
    }
    if (t.kind <= Tok.invalid) positional++;
  }
  const options = sig.options.filter((o) => !given.has(o.name)).map(optionItem);
  const spec = positionalSpec(sig, positional);
  const values = spec ? valuesFor(spec, sig, analysis, offset) : [];
  return list([...values, ...options]);
}
