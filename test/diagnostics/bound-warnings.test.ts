// A spec that repeats one mistake thousands of times gets the first MAX_WARNINGS_PER_CODE warnings of that code
// and a note of how many more, from compile() (so `nnc check` and the language server alike); errors are not
// bounded here, and --strict bounds the same list.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { MAX_WARNINGS_PER_CODE } from "../../src/diagnostics/index.ts";

const test = suite("bounded warnings");

/** A model of `relus` relu lines after a dense: relus - 1 W403s (each relu after the first follows one). */
const spec = (relus: number, extra = "") =>
  `model m {\ninput 4\ndense 3\n${"relu\n".repeat(relus)}${extra}dense 2 softmax\n}\n`;

test("1,000 repeats of one lint: the first 20, the last of them says how many more", () => {
  const result = compile(spec(1001), { filename: "m.nn" });
  const w403 = result.diagnostics.filter((d) => d.code === "W403");
  assert.is(w403.length, MAX_WARNINGS_PER_CODE);
  // Top to bottom: the kept ones are the first in the file.
  assert.is(w403[0]!.line, 5);
  assert.is(w403.at(-1)!.line, 4 + MAX_WARNINGS_PER_CODE);
  assert.equal(w403.at(-1)!.notes, [
    `${1000 - MAX_WARNINGS_PER_CODE} more W403 warnings after this one not shown`,
  ]);
  assert.not.ok(w403.slice(0, -1).some((d) => d.notes));
});

test("exactly the bound: all kept, no note", () => {
  const result = compile(spec(MAX_WARNINGS_PER_CODE + 1), { filename: "m.nn" });
  const w403 = result.diagnostics.filter((d) => d.code === "W403");
  assert.is(w403.length, MAX_WARNINGS_PER_CODE);
  assert.not.ok(w403.some((d) => d.notes));
});

test("other codes and errors are kept beside a bounded one; --strict bounds the same list", () => {
  const text = spec(100, "dropout 0.5\nbatchnorm\n");
  const plain = compile(text, { filename: "m.nn" });
  assert.ok(plain.diagnostics.some((d) => d.code === "W404"));
  const strict = compile(text, { filename: "m.nn", strict: true });
  assert.is(strict.ok, false);
  assert.equal(
    strict.diagnostics.map((d) => d.code),
    plain.diagnostics.map((d) => d.code),
  );
  assert.ok(strict.diagnostics.every((d) => d.severity === "error"));
});

test.run();
