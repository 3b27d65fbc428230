// Language server, wiring: `nnc lsp --stdio` (src/cli/commands/lsp.ts) or a test hands a connection here, and
// the server answers over it. Each open document is analysed by the compiler itself (document.ts) when it
// changes: at once when it has been quiet, and during a burst of keystrokes at most once per `debounceMs`
// (always ending on the newest text), then its diagnostics are published. Requests read the newest analysis,
// made on demand when the text has moved on. No request can take the server down: a handler that throws (a bug
// in nnc) is logged and answers nothing, and an analysis that throws is shown as E700 at the top of the file.
import {
  CodeActionKind,
  TextDocumentSyncKind,
  TextDocuments,
  type Connection,
  type InitializeResult,
  type TextEdit,
} from "vscode-languageserver/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import type { Diagnostic } from "../diagnostics/index.ts";
import { FormatError, formatSource } from "../format/index.ts";
import { codeActionsFor } from "./code-actions.ts";
import { completionAt } from "./completion.ts";
import { definitionAt } from "./definition.ts";
import { toLspDiagnostics } from "./diagnostics.ts";
import {
  analyzeDocument,
  filenameOf,
  internalErrorDiagnostic,
  withRunChecks,
  type DocumentAnalysis,
} from "./document.ts";
import { hoverAt } from "./hover.ts";
import { inlayHints } from "./inlay-hints.ts";
import { documentSymbols } from "./symbols.ts";

export interface ServerSettings {
  /** During a burst of edits, a document is analysed at most once per this many ms (default 150). */
  debounceMs: number;
}

export const DEFAULT_SETTINGS: ServerSettings = { debounceMs: 150 };

interface DocumentState {
  analysis?: DocumentAnalysis;
  /** The diagnostics last published (with the data and grid checks), and the version they are of. */
  published?: { version: number; diagnostics: Diagnostic[] };
  timer?: NodeJS.Timeout;
  /** When the last analysis started (ms, performance.now()). */
  lastRun: number;
}

/** An analysis of text the compiler could not analyse (a bug in nnc): E700, and nothing else known. */
function failedAnalysis(doc: TextDocument, e: unknown): DocumentAnalysis {
  return {
    uri: doc.uri,
    version: doc.version,
    doc,
    ok: false,
    filename: filenameOf(doc.uri),
    tree: { kind: "file", items: [], span: [0, doc.getText().length] },
    diagnostics: [internalErrorDiagnostic(e)],
    statements: [],
    models: [],
    blockDefinitions: new Map(),
    experiments: [],
    trainBlocks: [],
    layersBySpan: new Map(),
    layersByUse: new Map(),
  };
}

export function startServer(connection: Connection, overrides: Partial<ServerSettings> = {}): void {
  const settings: ServerSettings = { ...DEFAULT_SETTINGS, ...overrides };
  const documents = new TextDocuments(TextDocument);
  const states = new Map<string, DocumentState>();
  const stateOf = (uri: string): DocumentState => {
    let s = states.get(uri);
    if (!s) states.set(uri, (s = { lastRun: -Infinity }));
    return s;
  };

  const log = (what: string, e: unknown) =>
    connection.console.error(`nnc lsp: ${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);

  /** A handler that logs what it throws and answers `fallback` instead. */
  const guard =
    <P, R>(what: string, fallback: R, handler: (params: P) => R | Promise<R>) =>
    async (params: P): Promise<R> => {
      try {
        return await handler(params);
      } catch (e) {
        log(what, e);
        return fallback;
      }
    };

  /** The analysis of a document's current text, made now if the text has changed since the last one. */
  function current(doc: TextDocument): DocumentAnalysis {
    const state = stateOf(doc.uri);
    if (state.analysis?.version === doc.version && state.analysis.doc === doc) return state.analysis;
    let analysis: DocumentAnalysis;
    try {
      analysis = analyzeDocument(doc);
    } catch (e) {
      log(`analysing ${doc.uri}`, e);
      analysis = failedAnalysis(doc, e);
    }
    state.analysis = analysis;
    return analysis;
  }

  async function publish(uri: string): Promise<void> {
    const doc = documents.get(uri);
    if (!doc) return;
    const state = stateOf(uri);
    state.lastRun = performance.now();
    const analysis = current(doc);
    let diagnostics: Diagnostic[];
    try {
      diagnostics = await withRunChecks(analysis, analysis.ok);
    } catch (e) {
      log(`checking the data of ${uri}`, e);
      diagnostics = [...analysis.diagnostics, internalErrorDiagnostic(e)];
    }
    // Newer text came in meanwhile: its own run publishes.
    if (documents.get(uri)?.version !== analysis.version) return;
    state.published = { version: analysis.version, diagnostics };
    await connection.sendDiagnostics({
      uri,
      version: analysis.version,
      diagnostics: toLspDiagnostics(analysis, diagnostics),
    });
  }

  function schedule(uri: string): void {
    const state = stateOf(uri);
    if (state.timer) return; // the run already scheduled reads the newest text
    const wait = Math.max(0, state.lastRun + settings.debounceMs - performance.now());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      publish(uri).catch((e) => log(`publishing ${uri}`, e));
    }, wait);
  }

  documents.onDidChangeContent((change) => schedule(change.document.uri));
  documents.onDidClose((event) => {
    const state = states.get(event.document.uri);
    if (state?.timer) clearTimeout(state.timer);
    states.delete(event.document.uri);
    connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] }).catch(() => {});
  });

  connection.onInitialize((params): InitializeResult => {
    const options = (params.initializationOptions ?? {}) as Partial<ServerSettings>;
    if (typeof options.debounceMs === "number" && options.debounceMs >= 0)
      settings.debounceMs = options.debounceMs;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: [" ", "="] },
        definitionProvider: true,
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        inlayHintProvider: true,
      },
      serverInfo: { name: "nnc" },
    };
  });

  const withDoc =
    <P extends { textDocument: { uri: string } }, R>(fn: (analysis: DocumentAnalysis, params: P) => R) =>
    (params: P): R | null => {
      const doc = documents.get(params.textDocument.uri);
      return doc ? fn(current(doc), params) : null;
    };

  connection.onHover(
    guard(
      "hover",
      null,
      withDoc((a, p) => hoverAt(a, a.doc.offsetAt(p.position))),
    ),
  );
  connection.onCompletion(
    guard(
      "completion",
      null,
      withDoc((a, p) => completionAt(a, a.doc.offsetAt(p.position))),
    ),
  );
  connection.onDefinition(
    guard(
      "definition",
      null,
      withDoc((a, p) => definitionAt(a, a.doc.offsetAt(p.position))),
    ),
  );
  connection.onDocumentSymbol(
    guard(
      "document symbols",
      null,
      withDoc((a) => documentSymbols(a)),
    ),
  );
  connection.languages.inlayHint.on(
    guard(
      "inlay hints",
      null,
      withDoc((a, p) => inlayHints(a, a.doc.offsetAt(p.range.start), a.doc.offsetAt(p.range.end))),
    ),
  );
  connection.onCodeAction(
    guard(
      "code actions",
      null,
      withDoc((a, p) => {
        const state = stateOf(a.uri);
        const diags = state.published?.version === a.version ? state.published.diagnostics : a.diagnostics;
        const start = a.doc.offsetAt(p.range.start);
        const end = a.doc.offsetAt(p.range.end);
        return codeActionsFor(a, diags, start, end, p.context.diagnostics);
      }),
    ),
  );
  connection.onDocumentFormatting(
    guard("formatting", null, async (params): Promise<TextEdit[] | null> => {
      const doc = documents.get(params.textDocument.uri);
      if (!doc) return null;
      const text = doc.getText();
      let formatted: string;
      try {
        formatted = await formatSource(text, { filepath: filenameOf(doc.uri) });
      } catch (e) {
        // A spec with syntax errors is not formatted (as `nnc fmt` refuses it); its diagnostics say why.
        if (e instanceof FormatError) return [];
        throw e;
      }
      if (formatted === text) return [];
      return [{ range: { start: doc.positionAt(0), end: doc.positionAt(text.length) }, newText: formatted }];
    }),
  );

  documents.listen(connection);
}
