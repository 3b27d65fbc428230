// Language server, hover: on a layer, the layers it made (Keras name and class, output shape, trainable and
// non-trainable parameters) and its op's doc; on an option or positional value, its doc, type and default; on a
// block use, the block's signature and what the use expands to; on a model name, the model's totals. Docs and
// defaults come from the compiler's signature table (src/build/signatures.ts, src/ops/*).
import { MarkupKind, type Hover } from "vscode-languageserver/node";
import { metavar, usage, type ParamSpec, type Signature } from "../build/signatures.ts";
import type { Layer, Model } from "../ir/schema.ts";
import { KERAS_NAMES } from "../ir/keras-names.ts";
import { opOf } from "../ops/index.ts";
import { NO_PARAMS } from "../ops/op.ts";
import type { Block } from "../parse/syntax-tree.ts";
import { formatShape } from "../util/shape.ts";
import {
  blockHeaderAt,
  blockSignature,
  blockUsed,
  partAt,
  positionalSpec,
  resolveStatement,
  statementAt,
} from "./cursor.ts";
import { rangeOf } from "./diagnostics.ts";
import { spanKey, type DocumentAnalysis } from "./document.ts";

/** The words that open blocks: not in the signature table, since they are syntax rather than statements. */
export const KEYWORD_DOCS: Record<string, string> = {
  model: "`model NAME { LAYERS }`: a named model; a file of bare layers is one model named after the file",
  block:
    "`block NAME(PARAM, PARAM=DEFAULT) { LAYERS }`: a reusable block of layers, used like a layer: `NAME ARGS`",
  train:
    "`train { SETTINGS }`: how every model of the file trains (data, optimizer, loss, batch, epochs, ...)",
  experiment:
    "`experiment NAME { compare MODELS; vary KEY VALUES; ... }`: a grid of training runs (`nnc experiment`)",
  residual: "`residual { BODY [shortcut { S }] }`: adds BODY's output to its input (or to S's output)",
  shortcut: "`shortcut { LAYERS }`: inside a residual, the skip path instead of the identity",
  repeat: "`repeat N { BODY }`: BODY N times in sequence (in an experiment: runs per cell)",
};

const count = (n: number) => n.toLocaleString("en-US");

export function paramsLine(layers: readonly Layer[]): string {
  let trainable = 0;
  let nonTrainable = 0;
  for (const l of layers) {
    trainable += l.params?.trainable ?? 0;
    nonTrainable += l.params?.nonTrainable ?? 0;
  }
  return `${count(trainable + nonTrainable)} parameters (${count(trainable)} trainable, ${count(nonTrainable)} non-trainable)`;
}

/**
 * Whether the checker knows the layer's parameters: after an error upstream it goes on with the output of ops
 * whose output ignores the input (`dense 10`), but their parameters, which depend on it, stay unknown.
 */
export const paramsKnown = (layer: Layer): boolean =>
  layer.params !== undefined &&
  !(layer.params === NO_PARAMS && layer.op !== "input" && opOf(layer).outputWithoutInput !== undefined);

function layerLine(model: Model, layer: Layer, models: number): string {
  const cls = KERAS_NAMES[layer.op]?.className ?? layer.op;
  const shape = layer.outputShape
    ? `output \`${formatShape(layer.outputShape)}\``
    : "output unknown (see the errors)";
  const params = paramsKnown(layer)
    ? `, ${paramsLine([layer])}`
    : layer.outputShape
      ? ", parameters unknown (its input's shape is)"
      : "";
  const where = models > 1 ? ` in model '${model.name}'` : "";
  return `\`${layer.name}\` (${cls})${where}: ${shape}${params}`;
}

/** Up to 8 layers, one a line; more are counted. */
function layerLines(entries: readonly { model: Model; layer: Layer }[]): string {
  const models = new Set(entries.map((e) => e.model.name)).size;
  const lines = entries.slice(0, 8).map((e) => `- ${layerLine(e.model, e.layer, models)}`);
  if (entries.length > 8) lines.push(`- ... and ${entries.length - 8} more`);
  return lines.join("\n");
}

const defaultText = (p: ParamSpec) => (p.default === undefined ? "" : ` (default \`${String(p.default)}\`)`);

function paramDoc(p: ParamSpec, option: boolean): string {
  const head = option ? `**${p.name}**=${metavar(p.type)}` : `**${p.name}**: ${metavar(p.type)}`;
  return `${head}${defaultText(p)}\n\n${p.doc}`;
}

export function signatureDoc(sig: Signature): string {
  return `\`\`\`nn\n${usage(sig)}\n\`\`\`\n${sig.doc}`;
}

/** A model's totals: its layers, output and parameters. */
function modelDoc(model: Model): string {
  const output = model.layers.at(-1)?.outputShape;
  return (
    `**model ${model.name}**: ${model.layers.length} layers` +
    (output ? `, output \`${formatShape(output)}\`` : "") +
    `\n\n${paramsLine(model.layers)}`
  );
}

function blockUseDoc(analysis: DocumentAnalysis, block: Block, useSpan: readonly [number, number]): string {
  const entries = analysis.layersByUse.get(spanKey([useSpan[0], useSpan[1]])) ?? [];
  const lines = [`\`\`\`nn\n${blockSignature(block)}\n\`\`\``];
  if (entries.length > 0) {
    const last = entries[entries.length - 1]!.layer;
    const output = last.outputShape ? `, output \`${formatShape(last.outputShape)}\`` : "";
    lines.push(`expands to ${entries.length} layers${output}; ${paramsLine(entries.map((e) => e.layer))}`);
    lines.push(layerLines(entries));
  }
  return lines.join("\n\n");
}

const modelNamed = (analysis: DocumentAnalysis, name: string) =>
  analysis.program?.models.find((m) => m.name === name);

export function hoverAt(analysis: DocumentAnalysis, offset: number): Hover | null {
  const { doc } = analysis;
  const reply = (value: string, span: readonly [number, number]): Hover => ({
    contents: { kind: MarkupKind.Markdown, value },
    range: rangeOf(doc, [span[0], span[1]]),
  });

  const place = statementAt(analysis, offset);
  if (!place) {
    const block = blockHeaderAt(analysis, offset);
    if (!block) return null;
    if (block.name && block.name.span[0] <= offset && offset <= block.name.span[1]) {
      const model = block.keyword.text === "model" ? modelNamed(analysis, block.name.text) : undefined;
      if (model) return reply(modelDoc(model), block.name.span);
      if (block.keyword.text === "block")
        return reply(`\`\`\`nn\n${blockSignature(block)}\n\`\`\``, block.name.span);
    }
    const keyword = KEYWORD_DOCS[block.keyword.text];
    if (!keyword) return null;
    // A residual's keyword made the add that closes it.
    const made = analysis.layersBySpan.get(spanKey(block.keyword.span)) ?? [];
    const uses = analysis.layersByUse.get(spanKey(block.keyword.span)) ?? [];
    const extra =
      made.length > 0 ? `\n\n${layerLines(made)}` : uses.length > 0 ? `\n\n${uses.length} layers` : "";
    return reply(keyword + extra, block.keyword.span);
  }

  const { stmt } = place;
  const part = partAt(stmt, offset);
  const block = blockUsed(analysis, place);
  if (block)
    return reply(blockUseDoc(analysis, block, stmt.span), part?.kind === "head" ? stmt.head.span : stmt.span);

  const resolved = resolveStatement(place);
  if (!resolved) return null;
  const { sig, skip } = resolved;

  if (part?.kind === "option-key" || part?.kind === "option-value") {
    const spec = sig.options.find((o) => o.name === part.option.key.text);
    if (spec) return reply(paramDoc(spec, true), part.option.span);
  }
  if (part?.kind === "positional") {
    // A model name in `compare`: the model's totals.
    if (sig.name === "compare" && part.value.kind === "word") {
      const model = modelNamed(analysis, part.value.text);
      if (model) return reply(modelDoc(model), part.value.span);
    }
    if (part.index >= skip) {
      const spec = positionalSpec(sig, part.index - skip);
      if (spec) return reply(paramDoc(spec, false), part.value.span);
    } else {
      // The optimizer's name in `optimizer adam`: the optimizer's own row.
      return reply(signatureDoc(sig), part.value.span);
    }
  }

  const sections = [signatureDoc(sig)];
  if (sig.context === "layer") {
    const made = analysis.layersBySpan.get(spanKey(stmt.span)) ?? [];
    if (made.length > 0) sections.push(layerLines(made));
    else if (place.owner?.keyword.text === "block")
      sections.push("shapes are shown at each use of the block");
  } else {
    const defaults = sig.positional.filter((p) => p.default !== undefined);
    if (defaults.length > 0)
      sections.push(defaults.map((p) => `${p.name}: default \`${String(p.default)}\``).join(", "));
  }
  return reply(sections.join("\n\n"), part?.kind === "head" ? stmt.head.span : stmt.span);
}
