// The language server over the protocol, in process (a pair of streams, vscode-jsonrpc on the client side):
// diagnostics as `nnc check` gives them and as they change with edits, hover, completion, definition, symbols,
// formatting, each code action (applied, then checked again by the compiler) and inlay hints, on fixture specs.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { TRAIN_SIGNATURES, EXPERIMENT_SIGNATURES, LAYER_SIGNATURES } from "../../src/build/signatures.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { compile } from "../../src/compile.ts";
import { OPTIMIZERS } from "../../src/ir/schema.ts";
import { formatSource } from "../../src/format/index.ts";
import { MAX_SYMBOLS } from "../../src/lsp/symbols.ts";
import type { DocumentSymbol } from "vscode-languageserver/node";
import { tempDir } from "../helpers.ts";
import { applyEdits, inProcess, positionOf, repoRoot, uriOf, type Client } from "./client.ts";

const spec = (name: string) => readFileSync(join(repoRoot, "specs", name), "utf8");
const hoverText = (h: { contents: unknown } | null) => (h ? (h.contents as { value: string }).value : "");
const labels = (list: { items: { label: string }[] } | null) => list?.items.map((i) => i.label) ?? [];

const TYPO = `input 28x28
flatten
dence 128 relu
dense 64
batchnorm momentm=0.9
relu
dense 10 softmax

train {
  data mnist
  epochs 2
}
`;

let client: Client;
const dir = tempDir("lsp");
const uri = (name: string) => uriOf(join(dir, name));

const server = suite("language server, in process");
server.before(async () => {
  client = inProcess({ debounceMs: 0 });
  await client.initialize();
});
server.after(async () => client.stop());

server("diagnostics: the codes, messages (with help) and places of nnc check --format json", async () => {
  const path = join(dir, "typo.nn");
  writeFileSync(path, TYPO);
  const io = memoryIO();
  await run(["check", path, "--format", "json"], io);
  const expected = JSON.parse(io.stdout()).files[0].diagnostics as {
    code: string;
    severity: string;
    message: string;
    help?: string;
    line: number;
    column: number;
    endLine: number;
    endColumn: number;
  }[];
  assert.equal(
    expected.map((d) => d.code),
    ["E200", "E201"],
  );
  const got = await client.open(uriOf(path), TYPO);
  assert.equal(
    got.map((d) => ({ code: d.code, severity: d.severity, message: d.message, range: d.range })),
    expected.map((d) => ({
      code: d.code,
      severity: d.severity === "error" ? 1 : d.severity === "warning" ? 2 : 4,
      message: d.help ? `${d.message}\nhelp: ${d.help}` : d.message,
      range: {
        start: { line: d.line - 1, character: d.column - 1 },
        end: { line: d.endLine - 1, character: d.endColumn - 1 },
      },
    })),
  );
  assert.match(got[0]!.message as string, "did you mean 'dense'?");
  assert.is(got[0]!.source, "nnc");
});

server("diagnostics update as the document is edited", async () => {
  const u = uri("edit.nn");
  const first = await client.open(u, TYPO);
  assert.equal(
    first.map((d) => d.code),
    ["E200", "E201"],
  );
  // Fix the op by an incremental edit: 'dence' -> 'dense' (line 2, characters 0-5).
  const range = { start: { line: 2, character: 0 }, end: { line: 2, character: 5 } };
  const second = await client.change(u, "dense", range);
  assert.equal(
    second.map((d) => d.code),
    ["E201"],
  );
  const third = await client.change(u, TYPO.replace("dence", "dense").replace("momentm", "momentum"));
  assert.equal(
    third.map((d) => d.code),
    ["W410"],
  );
  const fourth = await client.change(u, TYPO.replace("momentm=0.9", "momentum=0.1"));
  assert.equal(
    fourth.map((d) => [d.code, d.severity]),
    [
      ["E200", 1],
      ["W410", 4],
      ["W405", 2],
    ],
  );
  await client.close(u);
});

server(
  "warnings are warnings, W410 a hint; related places: the use a layer came from, an add's inputs",
  async () => {
    const hint = await client.open(
      uri("hint.nn"),
      "input 784\ndense 64\nbatchnorm\nrelu\ndense 10 softmax\n",
    );
    assert.equal(
      hint.map((d) => [d.code, d.severity]),
      [["W410", 4]],
    );
    assert.match(hint[0]!.message as string, "help: add `bias=false`");

    const resnet = spec("resnet.nn").replace(/\n\s*shortcut \{[^}]*\}/, "");
    const shapes = await client.open(uri("resnet-no-shortcut.nn"), resnet);
    const e310 = shapes.find((d) => d.code === "E310")!;
    assert.ok(e310, "E310 reported");
    const related = e310.relatedInformation!.map((r) => r.message);
    assert.ok(
      related.some((m) => m.startsWith("'batch_normalization_") && m.includes("is made here")),
      related.join("; "),
    );
    assert.ok(
      related.some((m) => m.startsWith("'activation")),
      related.join("; "),
    );

    const blockUse = `block b(n) {\n  dense n\n}\nmodel m {\n  input 28x28\n  b 10\n  dense 10 softmax\n}\n`;
    const e302 = (await client.open(uri("block-use.nn"), blockUse)).find((d) => d.code === "E302")!;
    assert.is(e302.range.start.line, 1, "at the line in the block's body");
    assert.equal(
      e302.relatedInformation!.map((r) => [r.message, r.location.range.start.line]),
      [["expanded from the use", 5]],
    );
  },
);

server("data checks as nnc check makes them: a model the data does not fit", async () => {
  const text = "input 32x32x3\nflatten\ndense 10 softmax\ntrain {\n  data mnist\n}\n";
  const diags = await client.open(uri("mnist-wrong.nn"), text);
  const e321 = diags.find((d) => d.code === "E321")!;
  assert.ok(e321, diags.map((d) => d.code).join(" "));
  assert.is(e321.relatedInformation![0]!.location.range.start.line, 4, "the data line");
});

server(
  "hover: a layer's shape and parameters, an option's doc and default, a block use, a setting",
  async () => {
    const text = spec("mnist-bn.nn");
    const u = uri("mnist-bn.nn");
    await client.open(u, text);
    const dense = hoverText(await client.hover(u, positionOf(text, "\ndense 128", 2)));
    assert.match(dense, "fully connected layer");
    assert.match(
      dense,
      "`dense` (Dense): output `[?, 128]`, 100,480 parameters (100,480 trainable, 0 non-trainable)",
    );
    const bn = hoverText(await client.hover(u, positionOf(text, "\nbatchnorm", 2)));
    assert.match(bn, "output `[?, 128]`, 512 parameters (256 trainable, 256 non-trainable)");
    const epochs = hoverText(await client.hover(u, positionOf(text, "\n  epochs", 4)));
    assert.match(epochs, "passes over the training set");
    assert.match(epochs, "default `5`");
    const lr = hoverText(await client.hover(u, positionOf(text, "lr=", 1)));
    assert.match(lr, "**lr**=NUM (default `0.001`)");
    assert.match(lr, "learning rate");

    const withOption = "input 784\ndense 10\nbatchnorm momentum=0.95\n";
    const u2 = uri("hover-option.nn");
    await client.open(u2, withOption);
    const momentum = hoverText(await client.hover(u2, positionOf(withOption, "momentum", 2)));
    assert.match(momentum, "**momentum**=NUM (default `0.99`)");
    assert.match(momentum, "Keras convention");

    const resnet = spec("resnet.nn");
    const u3 = uri("resnet.nn");
    await client.open(u3, resnet);
    const use = hoverText(await client.hover(u3, positionOf(resnet, "basic 32", 1)));
    assert.match(use, "block basic(filters, stride=1)");
    assert.match(use, "expands to 5 layers, output `[?, 14, 14, 32]`");
    const inBody = hoverText(await client.hover(u3, positionOf(resnet, "conv2d filters", 1)));
    // One line per use: the body's shapes differ between them.
    assert.match(inBody, "`conv2d_1` (Conv2D): output `[?, 28, 28, 16]`, 2,304 parameters");
    assert.match(inBody, "`conv2d_5` (Conv2D): output `[?, 14, 14, 32]`, 4,608 parameters");
  },
);

server(
  "completion: statements per block, options with docs, values, names; new settings come from the table",
  async () => {
    const text = `block b(n) {\n  dense n\n}\nmodel first {\n  input 784\n  dense 64 name=hidden\n  \n}\nmodel second {\n  input 784\n  dense 10\n}\ntrain {\n  \n}\nexperiment e {\n  compare \n}\n`;
    const u = uri("complete.nn");
    await client.open(u, text);
    const inModel = labels(await client.completion(u, positionOf(text, "hidden\n  ", 9)));
    for (const name of ["dense", "batchnorm", "relu", "conv2d", "b", "residual", "repeat"])
      assert.ok(inModel.includes(name), name);
    assert.not.ok(inModel.includes("epochs"));
    const inTrain = await client.completion(u, positionOf(text, "train {\n  ", 10));
    const trainLabels = labels(inTrain);
    for (const sig of TRAIN_SIGNATURES) assert.ok(trainLabels.includes(sig.name), sig.name);
    assert.not.ok(trainLabels.includes("dense"));
    const epochs = inTrain!.items.find((i) => i.label === "epochs")!;
    assert.match((epochs.documentation as { value: string }).value, "passes over the training set");
    const models = labels(await client.completion(u, positionOf(text, "compare ", 8)));
    assert.equal(
      models.filter((m) => m === "first" || m === "second"),
      ["first", "second"],
    );

    // watch LAYER: the layers of the models, Keras-named ones too, with the models that have each.
    const watching = text.replace("train {\n  \n}", "train {\n  watch \n}");
    await client.change(u, watching);
    const watchItems = await client.completion(u, positionOf(watching, "watch ", 6));
    const watchLabels = labels(watchItems);
    for (const name of ["hidden", "dense", "input_layer"]) assert.ok(watchLabels.includes(name), name);
    assert.is(watchItems!.items.find((i) => i.label === "hidden")!.detail, "layer of first");
    assert.is(watchItems!.items.find((i) => i.label === "dense")!.detail, "layer of second");

    // Typing a line: each state of it.
    const lines = `input 784\nXX\n`;
    const u2 = uri("typing.nn");
    await client.open(u2, lines);
    const at = async (line: string) => {
      const t = lines.replace("XX", line);
      await client.change(u2, t);
      return client.completion(u2, positionOf(t, line, line.length));
    };
    const bn = await at("batchnorm ");
    const momentum = bn!.items.find((i) => i.label === "momentum=")!;
    assert.ok(momentum, labels(bn).join(" "));
    assert.match(momentum.detail!, "default 0.99");
    assert.match((momentum.documentation as { value: string }).value, "Keras convention");
    assert.ok(labels(await at("dense 128 ")).includes("relu"), "activations after the units");
    assert.not.ok(
      labels(await at("dense 128 bias=false ")).includes("bias="),
      "an option given is not offered again",
    );
    assert.ok(labels(await at("dense 128 init=")).includes("he_normal"), "initializers");
    assert.equal(labels(await at("dense 128 bias=")), ["true", "false"]);
    assert.ok(labels(await at("den")).includes("dense"));
    const lastLayer = LAYER_SIGNATURES.at(-1)!.name;
    assert.ok(labels(await at("")).includes(lastLayer));

    const train = `train {\n  XX\n}\n`;
    const u3 = uri("train.nn");
    await client.open(u3, train.replace("XX", ""));
    const inTrainAt = async (line: string) => {
      const t = train.replace("XX", line);
      await client.change(u3, t);
      return labels(await client.completion(u3, positionOf(t, line, line.length)));
    };
    assert.equal((await inTrainAt("optimizer ")).slice(0, OPTIMIZERS.length), [...OPTIMIZERS]);
    assert.ok((await inTrainAt("optimizer sgd ")).includes("nesterov="));
    assert.ok((await inTrainAt("data ")).includes("mnist"));
    assert.ok((await inTrainAt("data ")).includes("fashion-mnist"));
    assert.ok((await inTrainAt("data mnist ")).includes("validation="));

    const experiment = `experiment e {\n  XX\n}\n`;
    const u4 = uri("exp.nn");
    await client.open(u4, experiment.replace("XX", ""));
    const t4 = experiment.replace("XX", "");
    const expLabels = labels(await client.completion(u4, positionOf(t4, "{\n  ", 4)));
    for (const sig of [...EXPERIMENT_SIGNATURES, ...TRAIN_SIGNATURES])
      assert.ok(expLabels.includes(sig.name), sig.name);
  },
);

server("definition: compare -> model, block use -> block, add NAME -> the layer named so", async () => {
  const text = `block pair(n) {\n  dense n relu\n  dense n\n}\nmodel a {\n  input 784\n  dense 32 name=skip\n  pair 32\n  add skip\n  dense 10 softmax\n}\nmodel b {\n  input 784\n  dense 10 softmax\n}\nexperiment e {\n  compare a b\n}\n`;
  const u = uri("definition.nn");
  await client.open(u, text);
  const toModel = await client.definition(u, positionOf(text, "compare a b", 10));
  assert.equal(toModel!.range.start, positionOf(text, "model b", 6));
  const toBlock = await client.definition(u, positionOf(text, "pair 32", 1));
  assert.equal(toBlock!.range.start, positionOf(text, "block pair", 6));
  const toLayer = await client.definition(u, positionOf(text, "add skip", 5));
  assert.equal(toLayer!.range.start, positionOf(text, "dense 32 name=skip"));
  assert.is(await client.definition(u, positionOf(text, "dense 10")), null);
});

server("document symbols: models with their layers and shapes, blocks, train, experiments", async () => {
  const text = spec("notebook-study.nn");
  const u = uri("study.nn");
  await client.open(u, text);
  const symbols = (await client.symbols(u))!;
  const names = symbols.map((s) => s.name);
  assert.ok(names.includes("baseline") && names.includes("bn") && names.includes("train"), names.join(", "));
  assert.ok(
    names.some((n) => n.startsWith("experiment ")),
    names.join(", "),
  );
  const bn = symbols.find((s) => s.name === "bn")!;
  assert.match(bn.detail!, "parameters");
  const last = bn.children!.at(-1)!;
  assert.is(last.name, "dense 10 softmax");
  assert.match(last.detail!, "[?, 10]");
});

server("document symbols stop at MAX_SYMBOLS (a megabyte of statements is no outline)", async () => {
  const u = uri("many.nn");
  await client.open(u, "input 784\n" + "relu\n".repeat(MAX_SYMBOLS + 100));
  const count = (symbols: DocumentSymbol[]): number =>
    symbols.reduce((n, s) => n + 1 + count(s.children ?? []), 0);
  assert.is(count((await client.symbols(u))!), MAX_SYMBOLS);
});

server("formatting: nnc fmt's printer; a spec that does not parse is left alone", async () => {
  const messy = "model m {\ninput 784\n    dense 10   softmax\n}\ntrain { data mnist }\n";
  const u = uri("messy.nn");
  await client.open(u, messy);
  const edits = (await client.formatting(u))!;
  assert.is(applyEdits(messy, edits), await formatSource(messy));
  await client.change(u, await formatSource(messy));
  assert.equal(await client.formatting(u), []);
  await client.change(u, "model m {\n  dense 10 =\n");
  assert.equal(await client.formatting(u), []);
});

/** Applies the one quick fix offered for `code` and gives the fixed text and its diagnostics. */
async function quickFix(name: string, text: string, code: string) {
  const u = uri(name);
  const diags = await client.open(u, text);
  const d = diags.find((x) => x.code === code);
  assert.ok(d, `${code} among ${diags.map((x) => x.code).join(" ")}`);
  const actions = (await client.codeActions(u, d!.range, [d!]))!;
  const action = actions.find((a) => a.diagnostics?.[0]?.code === code);
  assert.ok(action, `a fix for ${code}`);
  assert.is(action!.kind, "quickfix");
  const fixed = applyEdits(text, action!.edit!.changes![u]!);
  const after = await client.change(u, fixed);
  return { fixed, after: after.map((x) => x.code), title: action!.title };
}

server("code action W401: the softmax moves after the batchnorm", async () => {
  const text = spec("notebook-buggy-bn.nn");
  const { fixed, after } = await quickFix("buggy.nn", text, "W401");
  assert.ok(fixed.includes("  dense 10\n  batchnorm\n  softmax\n}"), fixed);
  assert.not.ok(after.includes("W401"));
  assert.is(compile(fixed).diagnostics.filter((d) => d.code === "W401").length, 0);
  const swapped = await quickFix("swap.nn", "input 784\ndense 10\nsoftmax\nbatchnorm\n", "W401");
  assert.is(swapped.fixed, "input 784\ndense 10\nbatchnorm\nsoftmax\n");
  const oneLine = await quickFix(
    "one-line.nn",
    "model m { input 784; dense 10 softmax; batchnorm }\n",
    "W401",
  );
  assert.is(oneLine.fixed, "model m { input 784; dense 10; batchnorm; softmax }\n");
});

server("code action W410: bias=false", async () => {
  const { fixed, after } = await quickFix(
    "bias.nn",
    "input 784\ndense 64\nbatchnorm\nrelu\ndense 10 softmax\n",
    "W410",
  );
  assert.is(fixed, "input 784\ndense 64 bias=false\nbatchnorm\nrelu\ndense 10 softmax\n");
  assert.equal(after, []);
  const explicit = await quickFix(
    "bias-true.nn",
    "input 784\ndense 64 bias=true\nbatchnorm\ndense 10 softmax\n",
    "W410",
  );
  assert.is(explicit.fixed, "input 784\ndense 64 bias=false\nbatchnorm\ndense 10 softmax\n");
});

server("code action W405: PyTorch's momentum=0.1 -> Keras' momentum=0.9", async () => {
  const { fixed, after, title } = await quickFix(
    "momentum.nn",
    "input 784\ndense 10\nbatchnorm momentum=0.1\n",
    "W405",
  );
  assert.is(fixed, "input 784\ndense 10\nbatchnorm momentum=0.9\n");
  assert.match(title, "momentum=0.9");
  assert.equal(
    after.filter((c) => c === "W405"),
    [],
  );
});

server("code actions for did-you-mean: ops, options, values, Keras spellings", async () => {
  const op = await quickFix("op.nn", TYPO, "E200");
  assert.match(op.fixed, "\ndense 128 relu\n");
  assert.not.ok(op.after.includes("E200"));
  const option = await quickFix("option.nn", TYPO, "E201");
  assert.match(option.fixed, "batchnorm momentum=0.9\n");
  const value = await quickFix("value.nn", "input 784\ndense 10 sofmax\n", "E202");
  assert.is(value.fixed, "input 784\ndense 10 softmax\n");
  const keras = await quickFix("keras.nn", "input 784\ndense 10 bias=False\n", "E202");
  assert.is(keras.fixed, "input 784\ndense 10 bias=false\n");
  const lr = await quickFix(
    "lr.nn",
    "input 784\ndense 10 softmax\ntrain {\n  optimizer adam learning_rate=0.01\n}\n",
    "E201",
  );
  assert.match(lr.fixed, "optimizer adam lr=0.01");
  assert.equal(lr.after, []);
});

server("inlay hints: the output shape at the end of each layer line, block uses and residuals", async () => {
  const text = spec("resnet.nn");
  const u = uri("resnet-hints.nn");
  await client.open(u, text);
  const end = { line: text.split("\n").length, character: 0 };
  const hints = (await client.inlayHints(u, { start: { line: 0, character: 0 }, end }))!;
  const byLine = new Map(hints.map((h) => [h.position.line, h.label as string]));
  const line = (needle: string) => positionOf(text, needle).line;
  assert.is(byLine.get(line("input 28x28x1")), "→ [?, 28, 28, 1]");
  assert.is(byLine.get(line("basic 32 stride=2")), "→ [?, 14, 14, 32]");
  assert.is(byLine.get(line("dense 10 softmax")), "→ [?, 10]");
  assert.not.ok(byLine.has(line("conv2d filters 3x3 stride=stride")), "none inside a block definition");
  const residualEnd = hints.find((h) => h.tooltip && String(h.tooltip).includes("the sum of the body"));
  assert.ok(residualEnd);
});

server.run();
