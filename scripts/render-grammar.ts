// Renders the README's picture of the editor support (docs/editor/nnc-vscode.png). VS Code cannot run on this
// machine, so the picture is not VS Code: it is the extension's TextMate grammar run by vscode-textmate and
// vscode-oniguruma (VS Code's own tokenizer) over a spec, coloured by a few rules of VS Code's Dark+ theme, with
// the inlay hints and the diagnostics that a real run of the language server (in process, over the protocol)
// returns for that spec drawn in: an HTML page, screenshot by headless Chromium (Debian's `chromium`).
// Run: npx tsx scripts/render-grammar.ts [SPEC]
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inProcess, uriOf } from "../test/lsp/client.ts";
import { loadNnGrammar, tokenize, type Theme } from "./nn-highlight.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(root, "docs", "editor", "nnc-vscode.png");

/** Colours of VS Code's Dark+ theme for the scopes the grammar gives. */
const DARK_PLUS: Theme = {
  name: "Dark+ (subset)",
  settings: [
    { settings: { foreground: "#D4D4D4" } },
    { scope: "comment", settings: { foreground: "#6A9955" } },
    { scope: "string", settings: { foreground: "#CE9178" } },
    { scope: "constant.numeric", settings: { foreground: "#B5CEA8" } },
    { scope: "constant.language", settings: { foreground: "#569CD6" } },
    { scope: "keyword.control", settings: { foreground: "#C586C0" } },
    { scope: "keyword.other", settings: { foreground: "#569CD6" } },
    { scope: "keyword.operator", settings: { foreground: "#D4D4D4" } },
    { scope: "entity.name.type", settings: { foreground: "#4EC9B0" } },
    { scope: ["entity.name.function", "support.function"], settings: { foreground: "#DCDCAA" } },
    { scope: "variable.parameter", settings: { foreground: "#9CDCFE" } },
  ],
};

/** A message cut to fit the line, as editors show them at the end of a line. */
const clip = (s: string) => (s.length > 72 ? `${s.slice(0, 71)}…` : s);
const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

async function main() {
  const specPath = process.argv[2] ?? join(root, "docs", "editor", "example.nn");
  const text = readFileSync(specPath, "utf8").replace(/\n$/, "");
  // What the language server says about the spec: diagnostics and inlay hints, over the protocol.
  const client = inProcess({ debounceMs: 0 });
  await client.initialize();
  const uri = uriOf(specPath);
  const diagnostics = await client.open(uri, text);
  const lineCount = text.split("\n").length;
  const hints = (await client.inlayHints(uri, {
    start: { line: 0, character: 0 },
    end: { line: lineCount, character: 0 },
  }))!;
  await client.stop();

  const grammar = await loadNnGrammar(DARK_PLUS);
  const lines = tokenize(grammar, text).map((tokens, i) => {
    let column = 0;
    const spans = tokens.map((t) => {
      const from = column;
      column += t.text.length;
      const squiggle = diagnostics.find(
        (d) =>
          d.range.start.line === i &&
          d.range.start.character < column &&
          from < (d.range.end.line === i ? d.range.end.character : Infinity),
      );
      const style = [
        `color:${t.color}`,
        t.fontStyle! & 1 ? "font-style:italic" : "",
        t.fontStyle! & 2 ? "font-weight:bold" : "",
      ];
      const cls = squiggle
        ? ` class="sq${squiggle.severity === 1 ? "e" : squiggle.severity === 2 ? "w" : "h"}"`
        : "";
      return `<span${cls} style="${style.filter(Boolean).join(";")}">${escape(t.text)}</span>`;
    });
    const hint = hints.find((h) => h.position.line === i);
    const problem = diagnostics.find((d) => d.range.start.line === i && d.severity! <= 2);
    const after = [
      hint ? `<span class="hint">${escape(String(hint.label))}</span>` : "",
      problem
        ? `<span class="msg${problem.severity === 1 ? "e" : "w"}">${escape(clip(`${problem.code}: ${(problem.message as string).split("\n")[0]!}`))}</span>`
        : "",
    ].join("");
    return `<div class="line"><span class="gutter">${i + 1}</span>${spans.join("")}${after}</div>`;
  });
  const html = `<!doctype html><meta charset="utf-8"><style>
body{margin:0;background:#1E1E1E;font:14px/20px "DejaVu Sans Mono",monospace;color:#D4D4D4}
.page{padding:12px 16px}.line{white-space:pre;height:20px}
.gutter{display:inline-block;width:2.5em;margin-right:1.2em;text-align:right;color:#858585}
.hint{margin-left:1.2em;padding:0 4px;border-radius:3px;background:#2D2D2D;color:#969696;font-size:12px}
.msge,.msgw{margin-left:1.5em;font-size:12px}.msge{color:#F48771}.msgw{color:#CCA700}
.sqe{text-decoration:underline wavy #F14C4C}.sqw{text-decoration:underline wavy #CCA700}.sqh{text-decoration:underline dotted #888}
.note{color:#858585;font:12px sans-serif;padding:6px 16px;border-top:1px solid #333}
</style><div class="page">${lines.join("\n")}</div>
<div class="note">Not VS Code: nnc's TextMate grammar run by vscode-textmate + vscode-oniguruma, Dark+ colours; inlay hints and diagnostics from a real run of nnc lsp; rendered by scripts/render-grammar.ts in headless Chromium.</div>`;
  const htmlPath = join(tmpdir(), "nnc-editor.html");
  writeFileSync(htmlPath, html);
  mkdirSync(join(root, "docs", "editor"), { recursive: true });
  const height = 20 * lineCount + 24 + 52;
  execFileSync(
    "chromium",
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--hide-scrollbars",
      `--window-size=1100,${height}`,
      `--screenshot=${OUT}`,
      `file://${htmlPath}`,
    ],
    { stdio: "ignore" },
  );
  console.log(
    `wrote ${OUT} (${lineCount} lines, ${hints.length} inlay hints, ${diagnostics.length} diagnostics)`,
  );
}

await main();
