// Language server, diagnostics: nnc's diagnostics (the catalogue's codes and messages, with spans into the
// document) -> LSP diagnostics. Notes and help, which `nnc check` prints as `= note:` and `= help:` lines, end
// the message the same way; places a message concerns (the block use a layer came from, the data line, the
// layers an `add` merges) become related information.
import {
  DiagnosticSeverity,
  type Diagnostic as LspDiagnostic,
  type DiagnosticRelatedInformation,
  type Range,
} from "vscode-languageserver/node";
import type { TextDocument } from "vscode-languageserver-textdocument";
import type { Diagnostic } from "../diagnostics/index.ts";
import type { Span } from "../ir/schema.ts";
import { formatShape } from "../util/shape.ts";
import type { DocumentAnalysis } from "./document.ts";

export const rangeOf = (doc: TextDocument, span: Span): Range => ({
  start: doc.positionAt(span[0]),
  end: doc.positionAt(Math.max(span[0], span[1])),
});

const SEVERITY: Record<Diagnostic["severity"], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  hint: DiagnosticSeverity.Hint,
};

/** The message as `nnc check` words it, its notes and help as the lines it prints under the source line. */
export function messageOf(d: Diagnostic): string {
  const lines = [d.message];
  for (const note of d.notes ?? []) lines.push(`note: ${note}`);
  if (d.help) lines.push(`help: ${d.help}`);
  return lines.join("\n");
}

/**
 * The layers a message about merging names (E310: "... from 'a' and ... from 'b'"; E219: "refers to 'x'"), as
 * related places: the reader sees at once which earlier statements made them.
 */
function namedLayers(d: Diagnostic, analysis: DocumentAnalysis): { span: Span; message: string }[] {
  if (!d.span || (d.code !== "E310" && d.code !== "E219")) return [];
  const names = [...d.message.matchAll(d.code === "E310" ? /from '([^']+)'/g : /refers to '([^']+)'/g)].map(
    (m) => m[1]!,
  );
  const at = d.span;
  // The model the diagnostic is in: the one holding a layer made by the statement it points at.
  const model =
    analysis.program?.models.find((m) =>
      m.layers.some((l) => l.span && l.span[0] <= at[0] && at[1] <= l.span[1]),
    ) ?? analysis.program?.models[0];
  const out: { span: Span; message: string }[] = [];
  for (const name of names) {
    const layer = model?.layers.find((l) => l.name === name);
    if (layer?.span) {
      const shape = layer.outputShape ? ` (output ${formatShape(layer.outputShape)})` : "";
      out.push({ span: layer.span, message: `'${name}'${shape} is made here` });
    }
  }
  return out;
}

export function toLspDiagnostic(d: Diagnostic, analysis: DocumentAnalysis): LspDiagnostic {
  const { doc, uri } = analysis;
  const range = rangeOf(doc, d.span ?? [0, 0]);
  const related: DiagnosticRelatedInformation[] = [...(d.related ?? []), ...namedLayers(d, analysis)].map(
    (r) => ({ location: { uri, range: rangeOf(doc, r.span) }, message: r.message }),
  );
  const out: LspDiagnostic = {
    range,
    severity: SEVERITY[d.severity],
    code: d.code,
    source: "nnc",
    message: messageOf(d),
  };
  if (related.length > 0) out.relatedInformation = related;
  return out;
}

export const toLspDiagnostics = (analysis: DocumentAnalysis, diags: readonly Diagnostic[]): LspDiagnostic[] =>
  diags.map((d) => toLspDiagnostic(d, analysis));
