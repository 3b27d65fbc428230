// The VS Code extension's manifest holds together: the language, grammar and configuration it declares exist
// and agree with each other and with what extension.js starts (`nnc lsp`, stdio), and vscode-languageclient is
// the extension's dependency, not nnc's. (VS Code itself cannot run here; packaging is `npm run package` in
// editors/vscode, with @vscode/vsce.)
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { repoRoot } from "./client.ts";

const dir = join(repoRoot, "editors", "vscode");
const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
const nnc = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
const extension = suite("VS Code extension manifest");

extension("declares the nn language with its grammar and configuration, files that exist", () => {
  const [language] = manifest.contributes.languages;
  assert.is(language.id, "nn");
  assert.equal(language.extensions, [".nn"]);
  const [grammar] = manifest.contributes.grammars;
  assert.is(grammar.language, "nn");
  const tm = JSON.parse(readFileSync(join(dir, grammar.path), "utf8"));
  assert.is(tm.scopeName, grammar.scopeName);
  const config = JSON.parse(readFileSync(join(dir, language.configuration), "utf8"));
  assert.is(config.comments.lineComment, "#");
  assert.equal(config.brackets, [
    ["{", "}"],
    ["(", ")"],
  ]);
  assert.ok(existsSync(join(dir, manifest.main)));
  assert.ok(existsSync(join(dir, "README.md")) && existsSync(join(dir, "LICENSE")));
  assert.equal(manifest.activationEvents, ["onLanguage:nn"]);
});

extension("extension.js starts `nnc lsp` over stdio for the nn language, with the declared settings", () => {
  const code = readFileSync(join(dir, manifest.main), "utf8");
  assert.match(code, 'require("vscode-languageclient/node")');
  assert.match(code, 'args: ["lsp"], transport: TransportKind.stdio');
  assert.match(code, 'documentSelector: [{ language: "nn" }]');
  for (const key of Object.keys(manifest.contributes.configuration.properties)) {
    if (key === "nnc.trace.server") continue; // read by vscode-languageclient itself (trace.server of client "nnc")
    assert.match(code, `"${key.replace(/^nnc\./, "")}"`, key);
  }
  for (const { command } of manifest.contributes.commands) assert.match(code, `"${command}"`);
});

extension(
  "vscode-languageclient is the extension's dependency; vsce a dev dependency; nnc ships neither",
  () => {
    assert.ok(manifest.dependencies["vscode-languageclient"]);
    assert.ok(manifest.devDependencies["@vscode/vsce"]);
    assert.match(manifest.engines.vscode, /^\^1\./);
    for (const deps of [nnc.dependencies, nnc.devDependencies]) {
      assert.not.ok("vscode-languageclient" in deps);
      assert.not.ok("@vscode/vsce" in deps);
    }
    // The server half is nnc's own: `nnc lsp` runs from the nnc package.
    assert.ok(nnc.dependencies["vscode-languageserver"]);
  },
);

extension.run();
