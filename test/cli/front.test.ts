// The CLI's front half as a user runs it: exit codes, what lands on stdout vs stderr, JSON shapes.
// In-process through run(argv, io), plus real subprocesses of bin/nnc.js for the wiring.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { validateIR } from "../../src/ir/validate.ts";
import { setBeforeRename } from "../../src/save/atomic.ts";

/** A path in this repository, whatever the working directory the tests run from. */
const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const tmp = mkdtempSync(join(tmpdir(), "nnc-cli-"));
const write = (name: string, text: string) => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};

const check = suite("nnc check");

check("clean specs exit 0 and say ok", async () => {
  const r = await nnc("check", repo("specs/mnist-bn.nn"), repo("specs/mnist-mlp.nn"));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, "specs/mnist-bn.nn: ok");
  assert.match(r.stderr, "specs/mnist-mlp.nn: ok");
});

check("hints: check shows them and stays ok (--strict too); other commands do not repeat them", async () => {
  for (const flags of [[], ["--strict"]]) {
    const r = await nnc("check", ...flags, repo("specs/mnist-bn.nn"));
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /mnist-bn\.nn:9:1: hint\[W410\]: the bias of 'dense' is redundant/);
    assert.match(r.stderr, "specs/mnist-bn.nn: ok (2 hints)");
  }
  const json = JSON.parse((await nnc("check", "--format", "json", repo("specs/mnist-bn.nn"))).stdout);
  assert.equal([json.ok, json.errors, json.warnings, json.hints], [true, 0, 0, 2]);
  const summary = await nnc("summary", repo("specs/mnist-bn.nn"));
  assert.is(summary.code, 0, summary.stderr);
  assert.not.match(summary.stderr, "W410");
});

check("warnings exit 0, --strict makes them errors", async () => {
  const loose = await nnc("check", repo("specs/notebook-buggy-bn.nn"));
  assert.is(loose.code, 0);
  assert.match(loose.stderr, /warning\[W401\]/);
  assert.match(loose.stderr, /warning\[W402\]/);
  const strict = await nnc("check", "--strict", repo("specs/notebook-buggy-bn.nn"));
  assert.is(strict.code, 1);
  assert.match(strict.stderr, /error\[W401\]/);
});

check("errors: compiler-style location, caret, exit 1, every problem reported", async () => {
  const file = write("bad.nn", "input 28x28\nflatten\ndence 128 relu\ndense 10 softmax momentun=3\n");
  const r = await nnc("check", file);
  assert.is(r.code, 1);
  assert.match(r.stderr, `${file}:3:1: error[E200]`);
  assert.match(r.stderr, /did you mean 'dense'\?/);
  assert.match(r.stderr, `${file}:4:`);
  assert.match(r.stderr, /\^~+/);
  assert.match(r.stderr, /2 errors/);
});

check("--format json is machine-readable and carries line and column", async () => {
  const file = write("bad2.nn", "input 28x28\nconv2d 8 3x3\n");
  const r = await nnc("check", "--format", "json", file);
  assert.is(r.code, 1);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    errors: number;
    files: { diagnostics: { code: string; line: number; column: number }[] }[];
  };
  assert.is(out.ok, false);
  assert.ok(out.errors >= 1);
  const d = out.files[0]!.diagnostics[0]!;
  assert.is(d.code, "E302");
  assert.is(d.line, 2);
  assert.is(d.column, 1);
});

check("a missing file and binary garbage are diagnostics, not stack traces", async () => {
  const missing = await nnc("check", join(tmp, "nope.nn"));
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /error\[E001\]/);
  assert.not.match(missing.stderr, /at .*\.ts:\d+/);
  const binary = write("garbage.nn", "\u0000\u0001\u0002ELF\u00ff");
  writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0xfe]));
  const r = await nnc("check", binary);
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E002\]/);
});

check(
  "the data a spec names is looked up: a misspelt source or a missing folder is caught here",
  async () => {
    const typo = write("typo-data.nn", "input 28x28\nflatten\ndense 10 softmax\ntrain {\n  data mnsit\n}\n");
    const r = await nnc("check", typo);
    assert.is(r.code, 1);
    assert.match(r.stderr, `${typo}:5:3: error[E500]: unknown data source 'mnsit'`);
    assert.match(r.stderr, /did you mean 'mnist'/);
    assert.match(r.stderr, /data mnsit\n\s+\|\s+\^~+/);
    const folder = write(
      "missing-idx.nn",
      "model m { input 28x28; flatten; dense 10 softmax }\n" +
        "experiment e {\n  compare m\n  vary batch 8\n  data idx:no-such-folder\n}\n",
    );
    // Data missing on this machine is a warning (the spec is fine); --strict makes it an error.
    const missing = await nnc("check", "--format", "json", folder);
    assert.is(missing.code, 0);
    const found = JSON.parse(missing.stdout).files[0].diagnostics as { code: string; severity: string }[];
    assert.ok(
      found.some((d) => d.code === "W530" && d.severity === "warning"),
      JSON.stringify(found),
    );
    assert.is((await nnc("check", "--strict", folder)).code, 1);
    assert.is((await nnc("check", repo("specs/mnist-bn.nn"))).code, 0);
  },
);

check(
  "what nnc experiment would refuse is found by check: repeated values, equal cells, seeds past the last",
  async () => {
    const model = "model m { input 4; dense 2 softmax }\n";
    const cases: [string, string][] = [
      ["experiment e { compare m; vary batch 32 32; lr_scale none }\n", "E633"],
      ["experiment e { compare m m }\n", "E634"],
      ["experiment e { compare m; vary seed 1 2; repeat 2 }\n", "E634"],
      ["train { seed 4294967295 }\nexperiment e { compare m; repeat 2 }\n", "E635"],
    ];
    for (const [text, code] of cases) {
      const r = await nnc("check", write(`grid-${code}.nn`, model + text));
      assert.is(r.code, 1, text);
      assert.match(r.stderr, new RegExp(`:\\d+:\\d+: error\\[${code}\\]`), text);
    }
    for (const spec of ["notebook-study", "lr-study", "init-study", "convergence-study"]) {
      assert.is((await nnc("check", repo(`specs/${spec}.nn`))).code, 0, spec);
    }
  },
);

check("an empty file is an error", async () => {
  const r = await nnc("check", write("empty.nn", "# nothing here\n\n"));
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E003\]/);
});

const summary = suite("nnc summary");

summary("--json prints Keras' counts for the notebook's models", async () => {
  const base = JSON.parse((await nnc("summary", repo("specs/mnist-mlp.nn"), "--json")).stdout);
  assert.is(base.totalParams, 109386);
  assert.is(base.nonTrainableParams, 0);
  const buggy = JSON.parse(
    (await nnc("summary", repo("specs/notebook-buggy-bn.nn"), "--model", "with_bn", "--json")).stdout,
  );
  assert.is(buggy.totalParams, 109426);
  assert.is(buggy.trainableParams, 109406);
  assert.is(buggy.nonTrainableParams, 20);
  assert.equal(Object.keys(buggy.layers[0]).sort(), ["inputs", "name", "outputShape", "params", "type"]);
});

summary("the table shows layers, shapes and totals", async () => {
  const r = await nnc("summary", repo("specs/mnist-bn.nn"));
  assert.is(r.code, 0);
  assert.match(r.stdout, /batch_normalization_1 \(BatchNormalization\)/);
  assert.match(r.stdout, /\(None, 128\)/);
  assert.match(r.stdout, /Total params: 110154/);
});

summary("--model picks one model of a multi-model file; an unknown one is an error", async () => {
  const one = JSON.parse(
    (await nnc("summary", repo("specs/notebook-study.nn"), "--model", "bn", "--json")).stdout,
  );
  assert.is(one.model, "bn");
  const bad = await nnc("summary", repo("specs/notebook-study.nn"), "--model", "bm");
  assert.is(bad.code, 1);
  // The checker's code for the same mistake (E604 was a second one).
  assert.match(bad.stderr, /error\[E305\]: no model named 'bm'/);
});

const compile = suite("nnc compile");

compile("--emit ir prints IR that validates against the schema", async () => {
  const r = await nnc("compile", repo("specs/notebook-study.nn"), "--emit", "ir");
  assert.is(r.code, 0, r.stderr);
  const ir = JSON.parse(r.stdout);
  assert.equal(validateIR(ir).diagnostics, []);
  assert.equal(
    ir.models.map((m: { name: string }) => m.name),
    ["baseline", "bn"],
  );
});

compile("IR JSON in, same program out", async () => {
  const ir = (await nnc("compile", repo("specs/mnist-bn.nn"))).stdout;
  const file = write("mnist-bn.json", ir);
  const again = await nnc("compile", file);
  assert.is(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).models, JSON.parse(ir).models);
});

compile("-o writes atomically; a folder or an unwritable path is E007, not an internal error", async () => {
  const target = join(tmp, "out", "nested", "mnist.json");
  const ok = await nnc("compile", repo("specs/mnist-bn.nn"), "-o", target);
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(validateIR(JSON.parse(readFileSync(target, "utf8"))).program);
  const folder = await nnc("compile", repo("specs/mnist-bn.nn"), "-o", tmp);
  assert.is(folder.code, 1);
  assert.match(folder.stderr, `error[E007]: cannot write ${tmp}: it is a folder`);
  const underFile = await nnc("compile", repo("specs/mnist-bn.nn"), "-o", join(target, "x.json"));
  assert.is(underFile.code, 1);
  assert.match(underFile.stderr, /error\[E007\]/);
});

compile("--emit schema prints the JSON Schema", async () => {
  const r = await nnc("compile", "--emit", "schema");
  assert.is(r.code, 0);
  assert.is(JSON.parse(r.stdout).$id, "urn:nnc:ir:2");
});

const fmt = suite("nnc fmt");

fmt("--check fails on unformatted files, --write fixes them, and then --check passes", async () => {
  const file = write("messy.nn", "input 28x28;flatten   # keep me\n\n\n\ndense 10   softmax\n");
  const before = await nnc("fmt", "--check", file);
  assert.is(before.code, 1);
  assert.match(before.stderr, "not formatted");
  const written = await nnc("fmt", "--write", file);
  assert.is(written.code, 0, written.stderr);
  assert.is(readFileSync(file, "utf8"), "input 28x28\nflatten # keep me\n\ndense 10 softmax\n");
  assert.is((await nnc("fmt", "--check", file)).code, 0);
});

fmt("one file without flags prints the result; the specs are canonical", async () => {
  const r = await nnc("fmt", repo("specs/mnist-bn.nn"));
  assert.is(r.code, 0);
  assert.is(r.stdout, readFileSync(repo("specs/mnist-bn.nn"), "utf8"));
});

fmt("--write replaces the file atomically (a temporary file renamed over it)", async () => {
  const file = write("atomic.nn", "input 28x28\nflatten\n\n\ndense 10 softmax\n");
  const renamed: string[] = [];
  setBeforeRename((temp, target) => {
    renamed.push(target);
    // Until the rename, the file holds its old text whole.
    assert.is(readFileSync(target, "utf8"), "input 28x28\nflatten\n\n\ndense 10 softmax\n");
    assert.ok(existsSync(temp));
  });
  try {
    assert.is((await nnc("fmt", "--write", file)).code, 0);
  } finally {
    setBeforeRename(undefined);
  }
  assert.equal(renamed, [file]);
  assert.is(readFileSync(file, "utf8"), "input 28x28\nflatten\n\ndense 10 softmax\n");
});

fmt("reads as compile does: a binary file is E002, a missing one E001", async () => {
  const binary = join(tmp, "binary.nn");
  writeFileSync(binary, Buffer.from([0x69, 0x6e, 0xff, 0xfe, 0x0a]));
  const r = await nnc("fmt", "--check", binary, join(tmp, "absent.nn"));
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E002\]: this is not a text file \(binary data at byte 2\)/);
  assert.match(r.stderr, /error\[E001\]: cannot read .*absent\.nn: no such file/);
});

fmt("a file with syntax errors is left alone, with diagnostics", async () => {
  const file = write("broken.nn", "model m {\n  dense 10 lr=\n");
  const r = await nnc("fmt", "--write", file);
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`${file}:\\d+:\\d+: error\\[E1`));
  assert.is(readFileSync(file, "utf8"), "model m {\n  dense 10 lr=\n");
});

const usage = suite("usage");

usage("unknown commands and bad flags exit 2 with help", async () => {
  const r = await nnc("trian", "x.nn");
  assert.is(r.code, 2);
  assert.match(r.stderr, /unknown command 'trian'/);
  const bad = await nnc("train", repo("specs/mnist-bn.nn"), "--epochs", "zero");
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--epochs <n>.*argument .zero. is invalid. expected a positive integer/);
});

usage("the real binary runs (subprocess)", () => {
  const version = execFileSync(process.execPath, [repo("bin/nnc.js"), "--version"], { encoding: "utf8" });
  assert.is(version.trim(), JSON.parse(readFileSync(repo("package.json"), "utf8")).version);
  const bad = spawnSync(
    process.execPath,
    [repo("bin/nnc.js"), "check", repo("specs/notebook-buggy-bn.nn"), "--strict"],
    {
      encoding: "utf8",
    },
  );
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /specs\/notebook-buggy-bn\.nn:\d+:\d+: error\[W401\]/);
});

check.run();
summary.run();
compile.run();
fmt.run();
usage.run();
