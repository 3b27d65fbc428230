// A language client for the tests and the benchmark: vscode-jsonrpc over a pair of in-process streams (the
// server from src/lsp/server.ts on the other end) or over the pipes of a spawned `nnc lsp --stdio`.
import { spawn, type ChildProcess } from "node:child_process";
import { PassThrough } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from "vscode-jsonrpc/node";
import {
  createConnection,
  StreamMessageReader as ServerReader,
  StreamMessageWriter as ServerWriter,
  type CodeAction,
  type CompletionList,
  type Diagnostic,
  type DocumentSymbol,
  type Hover,
  type InlayHint,
  type Location,
  type Position,
  type PublishDiagnosticsParams,
  type Range,
  type TextEdit,
} from "vscode-languageserver/node";
import { startServer, type ServerSettings } from "../../src/lsp/server.ts";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const uriOf = (path: string) => pathToFileURL(path).href;

export class Client {
  private readonly published = new Map<string, PublishDiagnosticsParams>();
  private waiters: { uri: string; version: number; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  readonly versions = new Map<string, number>();
  /** Messages the server logged (window/logMessage): internal errors show up here. */
  readonly logs: string[] = [];
  /** How many times diagnostics were published (any document). */
  publications = 0;

  constructor(
    readonly connection: MessageConnection,
    private readonly onClose: () => Promise<void>,
  ) {
    connection.onNotification("textDocument/publishDiagnostics", (p: PublishDiagnosticsParams) => {
      this.published.set(p.uri, p);
      this.publications++;
      this.waiters = this.waiters.filter((w) => {
        if (w.uri !== p.uri || (p.version ?? -1) < w.version) return true;
        w.resolve(p);
        return false;
      });
    });
    connection.onNotification("window/logMessage", (p: { message: string }) => {
      this.logs.push(p.message);
    });
    connection.listen();
  }

  async initialize(
    initializationOptions: Partial<ServerSettings> = {},
  ): Promise<{ capabilities: Record<string, unknown> }> {
    const result = await this.connection.sendRequest<{ capabilities: Record<string, unknown> }>(
      "initialize",
      {
        processId: null,
        rootUri: null,
        capabilities: {},
        initializationOptions,
      },
    );
    await this.connection.sendNotification("initialized", {});
    return result;
  }

  /** Resolves with the first diagnostics published for `uri` at `version` or later. */
  diagnostics(uri: string, version = this.versions.get(uri) ?? 0): Promise<PublishDiagnosticsParams> {
    const have = this.published.get(uri);
    if (have && (have.version ?? -1) >= version) return Promise.resolve(have);
    return new Promise((resolve) => this.waiters.push({ uri, version, resolve }));
  }

  async open(uri: string, text: string): Promise<Diagnostic[]> {
    this.versions.set(uri, 1);
    await this.connection.sendNotification("textDocument/didOpen", {
      textDocument: { uri, languageId: "nn", version: 1, text },
    });
    return (await this.diagnostics(uri, 1)).diagnostics;
  }

  /** Replaces the text (or a range of it) without waiting for diagnostics; gives the new version. */
  async edit(uri: string, text: string, range?: Range): Promise<number> {
    const version = (this.versions.get(uri) ?? 0) + 1;
    this.versions.set(uri, version);
    await this.connection.sendNotification("textDocument/didChange", {
      textDocument: { uri, version },
      contentChanges: [range ? { range, text } : { text }],
    });
    return version;
  }

  async change(uri: string, text: string, range?: Range): Promise<Diagnostic[]> {
    const version = await this.edit(uri, text, range);
    return (await this.diagnostics(uri, version)).diagnostics;
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification("textDocument/didClose", { textDocument: { uri } });
  }

  private at = (uri: string, position: Position) => ({ textDocument: { uri }, position });
  hover = (uri: string, position: Position) =>
    this.connection.sendRequest<Hover | null>("textDocument/hover", this.at(uri, position));
  completion = (uri: string, position: Position) =>
    this.connection.sendRequest<CompletionList | null>("textDocument/completion", this.at(uri, position));
  definition = (uri: string, position: Position) =>
    this.connection.sendRequest<Location | null>("textDocument/definition", this.at(uri, position));
  symbols = (uri: string) =>
    this.connection.sendRequest<DocumentSymbol[] | null>("textDocument/documentSymbol", {
      textDocument: { uri },
    });
  formatting = (uri: string) =>
    this.connection.sendRequest<TextEdit[] | null>("textDocument/formatting", {
      textDocument: { uri },
      options: { tabSize: 2, insertSpaces: true },
    });
  codeActions = (uri: string, range: Range, diagnostics: Diagnostic[] = []) =>
    this.connection.sendRequest<CodeAction[] | null>("textDocument/codeAction", {
      textDocument: { uri },
      range,
      context: { diagnostics },
    });
  inlayHints = (uri: string, range: Range) =>
    this.connection.sendRequest<InlayHint[] | null>("textDocument/inlayHint", {
      textDocument: { uri },
      range,
    });

  /** shutdown, then (spawned) exit, and the streams closed. */
  async stop(): Promise<void> {
    await this.connection.sendRequest("shutdown");
    await this.onClose();
  }
}

/** The server in this process, on a pair of streams. */
export function inProcess(settings: Partial<ServerSettings> = {}): Client {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server = createConnection(new ServerReader(toServer), new ServerWriter(toClient));
  startServer(server, settings);
  server.listen();
  const connection = createMessageConnection(
    new StreamMessageReader(toClient),
    new StreamMessageWriter(toServer),
  );
  // No `exit` here: the protocol library answers it with process.exit, which would end the test run.
  return new Client(connection, async () => {
    connection.dispose();
    server.dispose();
    toServer.end();
    toClient.end();
  });
}

/** `node bin/nnc.js lsp --stdio`, as an editor starts it. */
export function spawned(): {
  client: Client;
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, [`${repoRoot}bin/nnc.js`, "lsp", "--stdio"], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout!),
    new StreamMessageWriter(child.stdin!),
  );
  const client = new Client(connection, async () => {
    await connection.sendNotification("exit");
    await exited;
    connection.dispose();
  });
  return { client, child, exited, stderr: () => stderr };
}

/** Position of the n-th (0-based) occurrence of `needle` in `text`, plus `delta` characters. */
export function positionOf(text: string, needle: string, delta = 0, nth = 0): Position {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`'${needle}' (#${nth}) not in the text`);
  }
  const offset = at + delta;
  const before = text.slice(0, offset);
  const line = before.split("\n").length - 1;
  return { line, character: offset - (before.lastIndexOf("\n") + 1) };
}

/** Applies LSP text edits to a text (any order; they must not overlap). */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const offset = (p: Position) => {
    const lines = text.split("\n");
    let o = 0;
    for (let i = 0; i < p.line; i++) o += lines[i]!.length + 1;
    return o + p.character;
  };
  const sorted = edits
    .map((e) => ({ start: offset(e.range.start), end: offset(e.range.end), text: e.newText }))
    .sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
