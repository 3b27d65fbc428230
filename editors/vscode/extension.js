// The nnc extension for VS Code: a thin client. Highlighting is the TextMate grammar in syntaxes/ (generated
// from nnc's signature table); everything else (diagnostics, hover, completion, outline, go to definition,
// formatting, quick fixes, inlay hints) comes from `nnc lsp --stdio`, nnc's own compiler as a language server,
// started by vscode-languageclient.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

/** @type {LanguageClient | undefined} */
let client;

/** The nnc command: the setting, else the workspace's own nnc (node_modules/.bin), else `nnc` on the PATH. */
function nncCommand() {
  const configured = vscode.workspace.getConfiguration("nnc").get("server.command", "");
  if (configured) return configured;
  const bin = process.platform === "win32" ? "nnc.cmd" : "nnc";
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const local = path.join(folder.uri.fsPath, "node_modules", ".bin", bin);
    if (fs.existsSync(local)) return local;
    // A checkout of nnc itself.
    const own = path.join(folder.uri.fsPath, "bin", "nnc.js");
    if (fs.existsSync(own) && fs.existsSync(path.join(folder.uri.fsPath, "src", "lsp"))) return own;
  }
  return "nnc";
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  const command = nncCommand();
  // A checkout's bin/nnc.js runs on the Node that runs VS Code's extensions; a command runs as it is.
  const run = command.endsWith(".js")
    ? { module: command, args: ["lsp"], transport: TransportKind.stdio }
    : {
        command,
        args: ["lsp"],
        transport: TransportKind.stdio,
        options: { shell: process.platform === "win32" },
      };
  const debounceMs = vscode.workspace.getConfiguration("nnc").get("server.debounceMs", 150);
  client = new LanguageClient(
    "nnc",
    "nnc language server",
    { run, debug: run },
    {
      documentSelector: [{ language: "nn" }],
      initializationOptions: { debounceMs },
    },
  );
  context.subscriptions.push(vscode.commands.registerCommand("nnc.restartServer", () => client?.restart()));
  try {
    await client.start();
  } catch (e) {
    vscode.window.showErrorMessage(
      `nnc: could not start '${command} lsp --stdio' (${e instanceof Error ? e.message : e}). ` +
        "Install nnc (npm install nnc) or set nnc.server.command.",
    );
  }
}

function deactivate() {
  return client?.stop();
}

module.exports = { activate, deactivate };
