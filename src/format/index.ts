// Format phase: .nn text -> the same spec in canonical style, through a prettier 3 plugin of our own (parser
// `nn` = parseSource, printer printer.ts). `nnc fmt` calls formatSource; editors can load nnPlugin.
import * as prettier from "prettier";
import type { Parser, Plugin, SupportLanguage } from "prettier";
import { hasErrors, type Diagnostic } from "../diagnostics/index.ts";
import { parseSource } from "../parse/parse.ts";
import type { SourceFile } from "../parse/syntax-tree.ts";
import { nnPrinter, type NnNode } from "./printer.ts";

/** A spec that does not parse is not formatted: the error carries its diagnostics (spans into the input). */
export class FormatError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join("\n") || "syntax error");
    this.name = "FormatError";
    this.diagnostics = diagnostics;
  }
}

const languages: SupportLanguage[] = [
  { name: "nn", parsers: ["nn"], extensions: [".nn"], linguistLanguageId: 0, vscodeLanguageIds: ["nn"] },
];

const nnParser: Parser<NnNode> = {
  astFormat: "nn-ast",
  parse(text, options) {
    const { tree, diagnostics } = parseSource(text, options.filepath);
    if (hasErrors(diagnostics)) throw new FormatError(diagnostics);
    // The printer needs the text to see where the user left blank lines.
    return Object.assign(tree, { text });
  },
  locStart: (node) => node.span[0],
  locEnd: (node) => node.span[1],
};

export const nnPlugin: Plugin<NnNode> = {
  languages,
  parsers: { nn: nnParser },
  printers: { "nn-ast": nnPrinter },
};

export async function formatSource(text: string, options: { filepath?: string } = {}): Promise<string> {
  // Parse first on the text as given, so diagnostics point into it (prettier normalizes line ends before
  // its parser sees the text).
  const { diagnostics } = parseSource(text, options.filepath);
  if (hasErrors(diagnostics)) throw new FormatError(diagnostics);
  return prettier.format(text, {
    parser: "nn",
    plugins: [nnPlugin],
    ...(options.filepath === undefined ? {} : { filepath: options.filepath }),
  });
}

export type { SourceFile };
