import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { clipLine, renderDiagnostics, SourceText } from "../../src/diagnostics/index.ts";

const long = suite("rendering long lines and runaway syntax errors");

long("a 60 '{' spec: one E100, a note that recovery stopped, and no overlong lines", () => {
  const text = "{".repeat(60);
  const result = compile(text, { filename: "x.nn" });
  assert.equal(
    result.diagnostics.map((d) => d.code),
    ["E100", "E107"],
  );
  assert.match(result.diagnostics[1]!.message, "too many syntax errors: stopped after 50");
});

long("a 5,000 '{' spec: one E108 (nesting limit), and no 5,000-character lines", () => {
  const text = "{".repeat(5000);
  const result = compile(text, { filename: "x.nn" });
  assert.equal(
    result.diagnostics.map((d) => d.code),
    ["E108"],
  );
  const rendered = renderDiagnostics(result.diagnostics, new Map([["x.nn", new SourceText("x.nn", text)]]));
  const widest = Math.max(...rendered.split("\n").map((l) => l.length));
  assert.ok(widest < 200, `widest rendered line: ${widest}`);
});

long("a long line is cut to a window around the caret, which still points at the span", () => {
  const text = "x".repeat(300) + "BAD" + "y".repeat(300);
  const clipped = clipLine(text, 301, 3);
  assert.ok(clipped.text.startsWith("...") && clipped.text.endsWith("..."));
  assert.is(clipped.text.slice(clipped.column - 1, clipped.column - 1 + clipped.width), "BAD");
  assert.equal(clipLine("short line", 3, 2), { text: "short line", column: 3, width: 2 });
  // Near the end: the window ends with the line, and the caret stays on the token.
  const end = clipLine("z".repeat(500) + "END", 501, 3);
  assert.ok(end.text.endsWith("END"));
  assert.is(end.text.slice(end.column - 1, end.column - 1 + end.width), "END");
});

long("distinct syntax errors on different lines are all reported", () => {
  const result = compile("= x\n= y\n");
  assert.equal(
    result.diagnostics.map((d) => [d.code, d.line]),
    [
      ["E100", 1],
      ["E100", 2],
    ],
  );
});
long.run();
