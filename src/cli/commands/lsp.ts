// nnc lsp --stdio: the language server (src/lsp/) over stdin and stdout, for editors (editors/vscode/ starts it).
// Runs until the editor sends `exit` or closes stdin; the protocol library then ends the process.
import { createConnection } from "vscode-languageserver/node";
import { startServer } from "../../lsp/server.ts";
import type { CliIO } from "../io.ts";

export function lspCommand(_io: CliIO, _opts: { stdio?: boolean }): Promise<number> {
  // stdout carries the protocol: anything else printed there would corrupt it.
  console.log = console.info = console.debug = console.warn = console.error;
  const connection = createConnection(process.stdin, process.stdout);
  startServer(connection);
  connection.listen();
  return new Promise<number>(() => {});
}
