// Language server, code actions: quick fixes for the lints that have a mechanical fix and for "did you mean"
// errors. Each edits the statements the diagnostic (and the checked IR behind it) points at:
//   W401 batchnorm after the output softmax -> the softmax moves after the batchnorm (dense -> batchnorm -> softmax)
//   W410 a bias feeding batchnorm           -> bias=false on that layer
//   W405 PyTorch-style momentum=0.1         -> the Keras momentum, 1 - m (momentum=0.9)
//   did you mean 'X'? (E200, E201, E202, E207, ...) and Keras/Python spellings (`lr=`, `true`) -> the word replaced
import {
  CodeActionKind,
  type CodeAction,
  type Diagnostic as LspDiagnostic,
  type TextEdit,
} from "vscode-languageserver/node";
import type { Diagnostic } from "../diagnostics/index.ts";
import { nodesByName } from "../ir/graph.ts";
import type { Layer, Model, Span } from "../ir/schema.ts";
import { opOf } from "../ops/index.ts";
import { rangeOf, toLspDiagnostic } from "./diagnostics.ts";
import type { DocumentAnalysis } from "./document.ts";

const sameSpan = (a: Span | undefined, b: Span | undefined) => !!a && !!b && a[0] === b[0] && a[1] === b[1];

/** The layers whose statement is exactly `span`, with their models. */
function layersAt(analysis: DocumentAnalysis, span: Span): { model: Model; layer: Layer }[] {
  return (analysis.program?.models ?? []).flatMap((model) =>
    model.layers.filter((l) => sameSpan(l.span, span)).map((layer) => ({ model, layer })),
  );
}

type Fix = { title: string; edits: TextEdit[] };

/** W401: `dense 10 softmax; batchnorm` -> `dense 10; batchnorm; softmax` (or swap `softmax` and `batchnorm`). */
function moveSoftmax(analysis: DocumentAnalysis, d: Diagnostic): Fix | undefined {
  const { doc } = analysis;
  const text = doc.getText();
  for (const { model, layer } of layersAt(analysis, d.span!)) {
    if (layer.op !== "batchnorm" || layer.inputs.length !== 1 || layer.expandedFrom?.length) continue;
    const producer = nodesByName(model).get(layer.inputs[0]!);
    if (
      !producer?.span ||
      producer.expandedFrom?.length ||
      opOf(producer).activation?.(producer) !== "softmax"
    )
      continue;
    const bn = layer.span!;
    if (producer.op === "activation") {
      // Two statements: swap them.
      const softmaxText = text.slice(producer.span[0], producer.span[1]);
      const bnText = text.slice(bn[0], bn[1]);
      return {
        title: "Move the softmax after the batchnorm",
        edits: [
          { range: rangeOf(doc, producer.span), newText: bnText },
          { range: rangeOf(doc, bn), newText: softmaxText },
        ],
      };
    }
    const word = producer.argSpans?.["activation"];
    if (!word) continue;
    // Remove ` softmax` from the layer, and write it as a statement of its own after the batchnorm.
    let from = word[0];
    while (from > producer.span[0] && /[ \t]/.test(text[from - 1]!)) from--;
    const between = text.slice(producer.span[1], bn[0]);
    const lineStart = text.lastIndexOf("\n", bn[0] - 1) + 1;
    const indent = /^[ \t]*/.exec(text.slice(lineStart, bn[0]))![0];
    const separator = between.includes("\n") ? `\n${indent}` : "; ";
    const activation = text.slice(word[0], word[1]);
    return {
      title: `Move ${activation} after the batchnorm (${producer.op} -> batchnorm -> ${activation})`,
      edits: [
        { range: rangeOf(doc, [from, word[1]]), newText: "" },
        { range: rangeOf(doc, [bn[1], bn[1]]), newText: `${separator}${activation}` },
      ],
    };
  }
  return undefined;
}

/** W410: `bias=false` on the layer feeding batchnorm. */
function dropBias(analysis: DocumentAnalysis, d: Diagnostic): Fix | undefined {
  const [entry] = layersAt(analysis, d.span!);
  if (!entry) return undefined;
  const { doc } = analysis;
  const existing = entry.layer.argSpans?.["useBias"];
  const edit = existing
    ? { range: rangeOf(doc, existing), newText: "bias=false" }
    : { range: rangeOf(doc, [entry.layer.span![1], entry.layer.span![1]]), newText: " bias=false" };
  return { title: `Write bias=false on '${entry.layer.name}'`, edits: [edit] };
}

/** W405: momentum=m (PyTorch's) -> momentum=1-m (Keras'). */
function kerasMomentum(analysis: DocumentAnalysis, d: Diagnostic): Fix | undefined {
  const text = analysis.doc.getText().slice(d.span![0], d.span![1]);
  const m = /^momentum\s*=\s*(.+)$/.exec(text);
  const value = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(value) || value < 0 || value > 1) return undefined;
  const keras = Number((1 - value).toPrecision(12));
  return {
    title: `Use Keras' momentum=${keras} (PyTorch's ${value})`,
    edits: [{ range: rangeOf(analysis.doc, d.span!), newText: `momentum=${keras}` }],
  };
}

/** "did you mean 'X'?" and the foreign spellings with a one-word nnc equivalent. */
function replaceWord(analysis: DocumentAnalysis, d: Diagnostic): Fix | undefined {
  const help = d.help ?? "";
  const word =
    /did you mean '([^']+)'\?/.exec(help)?.[1] ??
    /nnc's option is `([A-Za-z_0-9]+)=`/.exec(help)?.[1] ??
    /^write `([a-z]+)` \(nnc's words are lower case\)$/.exec(help)?.[1] ??
    /; nnc writes `([a-z_0-9]+)`$/.exec(help)?.[1];
  if (!word) return undefined;
  const span = d.span!;
  const text = analysis.doc.getText().slice(span[0], span[1]);
  // An option (`momentm=0.9`, `learning_rate=0.01`): the key is replaced, the value kept.
  const eq = text.indexOf("=");
  const target: Span = eq > 0 && d.code === "E201" ? [span[0], span[0] + eq] : span;
  const old = analysis.doc.getText().slice(target[0], target[1]);
  if (old === word || old.length === 0) return undefined;
  return {
    title: `Replace '${old}' with '${word}'`,
    edits: [{ range: rangeOf(analysis.doc, target), newText: word }],
  };
}

function fixFor(analysis: DocumentAnalysis, d: Diagnostic): Fix | undefined {
  if (!d.span) return undefined;
  if (d.code === "W401") return moveSoftmax(analysis, d);
  if (d.code === "W410") return dropBias(analysis, d);
  if (d.code === "W405") return kerasMomentum(analysis, d);
  return replaceWord(analysis, d);
}

const overlaps = (a: { start: number; end: number }, b: Span) => a.start <= b[1] && b[0] <= a.end;

/** Quick fixes for the diagnostics (of the last analysis) that touch [start, end]. */
export function codeActionsFor(
  analysis: DocumentAnalysis,
  diagnostics: readonly Diagnostic[],
  start: number,
  end: number,
  sent: readonly LspDiagnostic[] = [],
): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const d of diagnostics) {
    if (!d.span || !overlaps({ start, end }, d.span)) continue;
    const fix = fixFor(analysis, d);
    if (!fix) continue;
    const mine = toLspDiagnostic(d, analysis);
    // The client's copy of the diagnostic where it sent one (same code and range), so it links the two.
    const theirs = sent.find(
      (s) =>
        s.code === d.code &&
        s.range.start.line === mine.range.start.line &&
        s.range.start.character === mine.range.start.character,
    );
    actions.push({
      title: fix.title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [theirs ?? mine],
      isPreferred: true,
      edit: { changes: { [analysis.uri]: fix.edits } },
    });
  }
  return actions;
}
