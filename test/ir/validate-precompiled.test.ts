// The IR validator generated ahead of time (src/ir/validate-codegen.ts, used by builds) against the one ajv
// compiles from the schema at run time: the same verdict and the same errors on every program of the specs and
// fixtures, on the IR fixtures, and on thousands of seeded mutations of them (most of them invalid).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Ajv } from "ajv";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { generateValidatorModule } from "../../src/ir/validate-codegen.ts";
import {
  AJV_OPTIONS,
  programValidatorSchema,
  programValidatorSource,
  validateIR,
  validatorKey,
} from "../../src/ir/validate.ts";
import { tempDir } from "../helpers.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function files(dir: string, ext: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return files(path, ext);
    return name.endsWith(ext) ? [path] : [];
  });
}

/** Every program the specs, examples and fixtures compile to, and every JSON fixture. */
function corpus(): unknown[] {
  const docs: unknown[] = [];
  for (const file of ["specs", "examples", "test/fixtures"].flatMap((d) => files(d, ".nn"))) {
    const result = compile(readFileSync(join(root, file), "utf8"));
    if (result.program) docs.push(result.program);
  }
  for (const file of files("test/fixtures", ".json")) {
    try {
      docs.push(JSON.parse(readFileSync(join(root, file), "utf8")));
    } catch {
      // Not JSON on purpose (a fixture of a parse error).
    }
  }
  return docs;
}

/** A seeded linear congruential generator: the same mutations on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

type Path = Array<string | number>;
function paths(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at.length > 0) out.push(at);
  if (value && typeof value === "object") {
    for (const key of Object.keys(value)) {
      paths((value as Record<string, unknown>)[key], [...at, Array.isArray(value) ? Number(key) : key], out);
    }
  }
  return out;
}

const REPLACEMENTS = [null, 0, -1, 1.5, 2 ** 40, "x", "", "relu", true, [], {}, [1, 2], { op: "dense" }];

/** One to three edits of a copy of `doc`: a property or item removed, a value replaced, a property added. */
function mutate(doc: unknown, next: () => number): unknown {
  const copy = JSON.parse(JSON.stringify(doc));
  const edits = 1 + Math.floor(next() * 3);
  for (let i = 0; i < edits; i++) {
    const all = paths(copy);
    if (all.length === 0) break;
    const path = all[Math.floor(next() * all.length)]!;
    let parent = copy;
    for (const key of path.slice(0, -1)) parent = parent[key];
    const key = path.at(-1)!;
    const r = next();
    if (r < 0.3) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (r < 0.75) {
      parent[key] = structuredClone(REPLACEMENTS[Math.floor(next() * REPLACEMENTS.length)]);
    } else if (!Array.isArray(parent)) {
      parent[`extra${i}`] = 1;
    }
  }
  return copy;
}

/** The generated module, written beside a link to node_modules so its imports of ajv's runtime resolve. */
async function generated(): Promise<{
  precompiled: { key: string; program: ((doc: unknown) => boolean) & { errors?: unknown } };
}> {
  const dir = tempDir("validator");
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  const file = join(dir, "validator.mjs");
  writeFileSync(file, generateValidatorModule());
  return import(pathToFileURL(file).href);
}

const precompiled = suite("the IR validator generated ahead of time");

precompiled("is made from this schema: its key is the one validate.ts computes", async () => {
  const { precompiled } = await generated();
  assert.is(precompiled.key, validatorKey());
  assert.match(validatorKey(), /^[0-9a-f]{32}$/);
});

precompiled("gives ajv's run-time verdicts and errors on the corpus and its mutations", async () => {
  const { precompiled } = await generated();
  const compiled = new Ajv({ ...AJV_OPTIONS }).compile(programValidatorSchema());
  const docs = corpus();
  assert.ok(docs.length > 30, `found the corpus (${docs.length} documents)`);
  const next = random(20261205);
  let valid = 0;
  let invalid = 0;
  for (let i = 0; i < docs.length + 3000; i++) {
    const doc = i < docs.length ? docs[i] : mutate(docs[Math.floor(next() * docs.length)], next);
    const verdict = compiled(doc);
    assert.is(
      precompiled.program(doc),
      verdict,
      `verdict on document ${i}: ${JSON.stringify(doc).slice(0, 200)}`,
    );
    assert.equal(precompiled.program.errors ?? null, compiled.errors ?? null, `errors on document ${i}`);
    if (verdict) valid++;
    else invalid++;
  }
  // Both kinds were tried, in numbers.
  assert.ok(valid > 200 && invalid > 1000, `${valid} valid, ${invalid} invalid`);
});

precompiled("from the sources there is none: validate.ts compiles the schema", () => {
  assert.ok(validateIR(corpus()[0]).program);
  assert.is(programValidatorSource(), "compiled");
});

precompiled("the generated module imports only ajv's runtime helpers", () => {
  const code = generateValidatorModule();
  const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
  for (const spec of imports) assert.match(spec!, /^ajv\/dist\/runtime\/[\w-]+\.js$/);
  assert.not.match(code, /\brequire\(/);
  // It runs in Node as written (a syntax check of the whole module).
  const dir = tempDir("validator-syntax");
  writeFileSync(join(dir, "v.mjs"), code);
  execFileSync(process.execPath, ["--check", join(dir, "v.mjs")]);
});

precompiled.run();
