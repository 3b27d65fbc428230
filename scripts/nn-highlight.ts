// Highlights .nn text as VS Code does: the extension's TextMate grammar (editors/vscode/syntaxes/) run by
// vscode-textmate on the Oniguruma regex engine (vscode-oniguruma's WebAssembly build), the two libraries VS
// Code itself uses. Gives each line's tokens with their scopes, and, with a theme, their colours. Used by the
// grammar's test (test/lsp/grammar.test.ts) and by scripts/render-grammar.ts, which renders the README's picture.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import oniguruma from "vscode-oniguruma";
import textmate from "vscode-textmate";
import type { IGrammar } from "vscode-textmate";

const require = createRequire(import.meta.url);
export const GRAMMAR_PATH = new URL("../editors/vscode/syntaxes/nn.tmLanguage.json", import.meta.url);

export interface Token {
  text: string;
  scopes: string[];
  /** With a theme: the foreground colour (#rrggbb) and font style bits (1 italic, 2 bold). */
  color?: string;
  fontStyle?: number;
}

let wasmLoaded: Promise<void> | undefined;

/** A theme as VS Code's JSON themes write it: `settings` rules of scopes and colours. */
export type Theme = {
  name: string;
  settings: { scope?: string | string[]; settings: { foreground?: string; fontStyle?: string } }[];
};

export async function loadNnGrammar(theme?: Theme): Promise<{ grammar: IGrammar; colors: string[] }> {
  if (!wasmLoaded) {
    const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
    wasmLoaded = oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  }
  await wasmLoaded;
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) =>
      scopeName === "source.nn"
        ? textmate.parseRawGrammar(readFileSync(GRAMMAR_PATH, "utf8"), "nn.tmLanguage.json")
        : null,
  });
  if (theme) registry.setTheme(theme);
  const grammar = await registry.loadGrammar("source.nn");
  if (!grammar) throw new Error("the nn grammar did not load");
  return { grammar, colors: registry.getColorMap() };
}

/** Each line's tokens (scopes; colours too when the grammar was loaded with a theme). */
export function tokenize(loaded: { grammar: IGrammar; colors: string[] }, text: string): Token[][] {
  const { grammar, colors } = loaded;
  let stack = textmate.INITIAL;
  return text.split("\n").map((line) => {
    const result = grammar.tokenizeLine(line, stack);
    const encoded = grammar.tokenizeLine2(line, stack).tokens;
    stack = result.ruleStack;
    return result.tokens.map((t) => {
      const token: Token = { text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes };
      // tokenizeLine2: pairs of (start, metadata); foreground in bits 15-23, font style in bits 11-14.
      for (let i = 0; i < encoded.length; i += 2) {
        if (encoded[i]! > t.startIndex) break;
        const meta = encoded[i + 1]!;
        token.color = colors[(meta >>> 15) & 0x1ff];
        token.fontStyle = (meta >>> 11) & 0xf;
      }
      return token;
    });
  });
}

/** The scope a token gets from the grammar (its innermost, past `source.nn`), or '' for plain text. */
export const scopeOf = (t: Token): string => (t.scopes.length > 1 ? t.scopes[t.scopes.length - 1]! : "");
