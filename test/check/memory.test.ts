// Training memory: the estimate against a hand computation, E315 from `nnc check`, compile() and experiments
// (before any cell runs), E636 from `nnc train` on wasm before it allocates, E637/E638, and the thread planner
// keeping one thread where two would not fit. Models over the limit are sized from this machine's memory at test
// time, so the tests hold on any machine.
import { existsSync, writeFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/api.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { checkProgram } from "../../src/check/check.ts";
import { summarizeModel, formatSummary } from "../../src/check/summary.ts";
import { defaultOptimizer } from "../../src/ir/optimizer-defaults.ts";
import type { Model } from "../../src/ir/schema.ts";
import {
  estimateTrainingMemory,
  machineMemory,
  requireWeightsMemory,
  RUNTIME_BYTES,
  slotsOnWasmHeap,
  trainingMemoryProblem,
  WASM_HEAP_CEILING,
} from "../../src/ir/training-memory.ts";
import { planThreads } from "../../src/train/parallel/plan.ts";
import { failsWith, tempDir } from "../helpers.ts";

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const dir = tempDir("memory");
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const checked = (source: string): Model => {
  const result = compile(source, { filename: "m.nn" });
  assert.ok(result.program, JSON.stringify(result.diagnostics));
  return result.program!.models[0]!;
};

/**
 * Hidden dense layers of 40,000 units, enough that training needs about twice this machine's memory: each holds
 * 1.6e9 parameters (6.4 GB), with Adam ~5 copies of them.
 */
const oversizeLayers = () => Math.ceil((2 * totalmem()) / (5 * 4 * 1.6e9)) + 1;
const OVERSIZE = `input 28x28\nflatten\ndense 40000 relu\nrepeat ${oversizeLayers()} { dense 40000 relu }\ndense 10 softmax\n`;

const estimate = suite("the estimate");

estimate("a small MLP's parts equal a hand computation", () => {
  // dense: 784 x 128 + 128 = 100,480 parameters; dense_1: 128 x 10 + 10 = 1,290; 101,770 in all, all trainable.
  const model = checked("input 784; dense 128 relu; dense 10 softmax");
  const settings = { batch: 32, optimizer: defaultOptimizer("adam") };
  const cpu = estimateTrainingMemory(model, settings, "cpu");
  const P = 101_770;
  assert.is(cpu.parts.parameters, 4 * P);
  assert.is(cpu.parts.gradients, 4 * P);
  assert.is(cpu.parts.slots, 2 * 4 * P, "adam: m and v");
  assert.is(cpu.parts.update, 4 * P, "fresh buffers for the next values");
  // Per sample: the input once (784), dense with relu 4 x 128, dense_1 with softmax 4 x 10: 1,336 values.
  assert.is(cpu.parts.activations, 4 * 32 * (784 + 4 * 128 + 4 * 10));
  // Only dense_1 computes its input gradient (dense's input is the data): its 1,280-value kernel, transposed.
  assert.is(cpu.parts.kernelCopies, 4 * 1280);
  // Evaluation: 1,000 samples a batch (784 values are far below 4 Mi), each output once: 784 + 128 + 10.
  assert.is(cpu.parts.evaluation, 4 * 1000 * 922);
  assert.is(cpu.parts.checkpoint, 4 * P + 2 * 4 * P);
  assert.is(cpu.parts.fragmentation, 0);
  // Resident weights and slots, then the largest of a step, evaluation and a checkpoint's copies: evaluation.
  assert.is(cpu.total, 4 * P + 8 * P + 4 * 1000 * 922 + RUNTIME_BYTES);

  const wasm = estimateTrainingMemory(model, settings, "wasm");
  assert.is(wasm.parts.update, 4 * P, "weights under 16 Mi values get fresh memory on wasm too");
  // Packed copies of both kernels (100,352 + 1,280) and dense_1's transposed kernel with its packing (2 x 1,280).
  assert.is(wasm.parts.kernelCopies, 4 * (100_352 + 1280 + 2 * 1280));
  assert.is(wasm.parts.fragmentation, 4 * 100_352, "the largest gradient once more");
  assert.ok(wasm.heap!.slotsOnHeap);
  const heap = 4 * P + 8 * P + 4 * 101_632 + 4 * 100_352 + 4 * 1000 * 922;
  assert.is(wasm.heap!.peak, heap);
  assert.is(wasm.total, heap + wasm.parts.checkpoint + RUNTIME_BYTES);
});

estimate("optimizers' slots, threads and the slots' place on the wasm heap", () => {
  const model = checked("input 784; dense 64 relu; dense 10 softmax");
  const at = (o: Parameters<typeof defaultOptimizer>[0], extra = {}) =>
    estimateTrainingMemory(model, { batch: 32, optimizer: { ...defaultOptimizer(o), ...extra } }).parts.slots;
  const P = 784 * 64 + 64 + 64 * 10 + 10;
  assert.is(at("sgd"), 0);
  assert.is(at("sgd", { momentum: 0.9 }), 4 * P);
  assert.is(at("rmsprop"), 4 * P);
  assert.is(at("rmsprop", { momentum: 0.9 }), 8 * P);
  const one = estimateTrainingMemory(model, { batch: 32, optimizer: defaultOptimizer("adam") }, "wasm", 1);
  const two = estimateTrainingMemory(model, { batch: 32, optimizer: defaultOptimizer("adam") }, "wasm", 2);
  assert.ok(two.total > one.total && two.parts.threads > 0, "a second thread holds its own copies");
  // Adam's slots leave the heap past ~161 million trainable parameters; other optimizers never use it.
  assert.ok(slotsOnWasmHeap(defaultOptimizer("adam"), 150e6));
  assert.not.ok(slotsOnWasmHeap(defaultOptimizer("adam"), 170e6));
  assert.not.ok(slotsOnWasmHeap(defaultOptimizer("sgd"), 1000));
});

estimate("dense 300000 after flatten fits the wasm heap (its slots outside it); two threads do not", () => {
  const model = checked("input 28x28; flatten; dense 300000 relu; dense 10 softmax");
  const settings = { batch: 32, optimizer: defaultOptimizer("adam") };
  const one = estimateTrainingMemory(model, settings, "wasm");
  assert.not.ok(one.heap!.slotsOnHeap);
  // The 235,200,000-value kernel is updated in place; its bias and dense_1 get fresh memory.
  assert.is(one.parts.update, 4 * (300_000 + 3_000_000 + 10));
  assert.ok(one.heap!.peak < WASM_HEAP_CEILING, `${one.heap!.peak}`);
  const two = estimateTrainingMemory(model, settings, "wasm", 2);
  assert.ok(two.heap!.peak > WASM_HEAP_CEILING, "each thread also holds the summed gradients");
  // `auto` keeps one thread and says why; two asked for by number is E636.
  const plan = {
    model,
    batch: 32,
    steps: 1000,
    compiledStep: true,
    backend: "wasm" as const,
    optimizer: settings.optimizer,
  };
  const auto = planThreads({ ...plan, requested: "auto" });
  assert.is(auto.threads, 1);
  if (availableParallelism() >= 2) assert.match(auto.why ?? "", /two threads would not fit/);
});

estimate("the summary shows the training memory at the spec's batch", () => {
  const result = compile("input 784; dense 128 relu; dense 10 softmax\ntrain { batch 64 }", {
    filename: "m.nn",
  });
  const summary = summarizeModel(result.program!.models[0]!, result.program!.train);
  assert.is(summary.trainingMemory!.batch, 64);
  const text = formatSummary(summary, "m");
  assert.match(text, /Training memory at batch 64 with adam: [\d.]+ MiB on wasm \(parameters 398 KiB, /);
  assert.match(text, /wasm heap [\d.]+ MiB of its 4\.00 GiB ceiling; on cpu/);
});

estimate.run();

const refused = suite("too large: refused with a named error");

refused("nnc check: E315 at the largest layer, with the estimate and this machine's memory", async () => {
  const file = write("big.nn", OVERSIZE + "train { data mnist }\n");
  const r = await nnc("check", file);
  assert.is(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /big\.nn:4:\d+: error\[E315\]: model 'big' at batch 32 with adam needs about [\d.]+ [GT]iB/,
  );
  assert.match(r.stderr, /\(parameters [\d.]+ [GT]iB, gradients [\d.]+ [GT]iB, adam slots/);
  assert.match(r.stderr, /more than this machine's [\d.]+ GiB of memory/);
  assert.match(r.stderr, /help: Make layer 'dense_1' smaller \(it holds 1,600,040,000 parameters\)$/m);
});

refused("compile(): E315 in the diagnostics, and build() throws it", async () => {
  const result = compile(OVERSIZE + "train { batch 32 }\n", { filename: "big.nn" });
  assert.not.ok(result.ok);
  assert.equal(
    result.diagnostics.map((d) => d.code),
    ["E315"],
  );
  await failsWith("E315", () => result.build());
  // Without a train block the file only defines models: training checks them when it runs.
  assert.ok(compile(OVERSIZE, { filename: "big.nn" }).ok);
  // The limit can be given: the small MLP over 1 MiB.
  const small = compile("input 784; dense 10 softmax\ntrain { batch 32 }", { filename: "s.nn" });
  const again = checkProgram(small.program!, { memory: 2 ** 20 });
  assert.equal(
    again.diagnostics.map((d) => d.code),
    ["E315"],
  );
});

refused("an experiment with one cell too large is refused before any cell runs", async () => {
  // input 28x28 -> flatten -> dense 10 softmax keeps 784 + 4 x 10 values a sample in a step: a batch that needs
  // twice this machine's memory in activations alone.
  const huge = Math.ceil((2 * totalmem()) / (4 * 824));
  const file = write(
    "grid.nn",
    "model small { input 28x28; flatten; dense 10 softmax }\n" +
      `experiment sizes {\n  compare small\n  vary batch 32 ${huge}\n}\n`,
  );
  const check = await nnc("check", file);
  assert.is(check.code, 1);
  assert.match(
    check.stderr,
    new RegExp(
      `error\\[E315\\]: experiment 'sizes' trains model 'small' at batch ${huge} with adam, which needs`,
    ),
  );
  assert.match(check.stderr, /help: Use a batch of at most [\d,]+/);
  const out = join(dir, "grid-out");
  const r = await nnc("experiment", file, "--out", out);
  assert.is(r.code, 1);
  assert.match(r.stderr, /error\[E315\]/);
  assert.not.ok(existsSync(join(out, "results.json")), "no cell ran");
});

refused(
  "nnc train on wasm: E636 before the model is built, with what to do (or E315 on a small machine)",
  async () => {
    // ~318 million parameters: 1.27 GB, its packed copy and its gradient pass the heap's 4 GiB.
    const source =
      "input 28x28; flatten; dense 400000 relu; dense 10 softmax\ntrain { data mnist limit=64; epochs 1 }\n";
    const model = checked(source);
    const cpu = estimateTrainingMemory(model, { batch: 32, optimizer: defaultOptimizer("adam") });
    const file = write("wide.nn", source);
    const r = await nnc("train", file, "--backend", "wasm", "--out", join(dir, "wide-out"));
    assert.is(r.code, 1, r.stderr);
    if (cpu.total > machineMemory().total) {
      assert.match(r.stderr, /error\[E315\]/);
      return;
    }
    assert.match(
      r.stderr,
      /error\[E636\]: model 'wide' at batch 32 with adam on wasm needs about [\d.]+ GiB of the wasm backend's heap to train \(/,
    );
    assert.match(r.stderr, /more than its 4\.00 GiB ceiling \(WebAssembly memory is 32-bit\)/);
    assert.match(r.stderr, /help: Use the cpu backend \(--backend cpu; .*install @tensorflow\/tfjs-node/);
    assert.not.match(r.stderr, /internal error/);
  },
);

refused("E637: more than the memory free now, with threads and jobs named; E638: weights alone", () => {
  const model = checked("input 784; dense 128 relu; dense 10 softmax");
  const e = estimateTrainingMemory(model, { batch: 32, optimizer: defaultOptimizer("adam") }, "cpu", 2);
  const machine = { total: 2 ** 30, available: 2 ** 20 };
  const d = trainingMemoryProblem(e, "model 'm' at batch 32", machine, 3)!;
  assert.is(d.code, "E637");
  assert.match(d.message, /^model 'm' at batch 32 \(x 3 jobs at once\) needs about [\d.]+ MiB to train \(/);
  assert.match(d.message, /more than the 1\.00 MiB of memory free now \(of 1\.00 GiB\)$/);
  assert.is(d.help, "Train on one thread (--threads 1) or run one cell at a time (--jobs 1)");
  assert.is(trainingMemoryProblem(e, "m", { total: 2 ** 40, available: 2 ** 40 }), undefined);
  const wide = checked("input 28x28; flatten; dense 1200000 relu; dense 10 softmax");
  return failsWith("E638", () => requireWeightsMemory(wide, "wasm")).then((d) => {
    assert.match(d.message, /for its weights alone \(parameters [\d.]+ GiB, their packed copies/);
    requireWeightsMemory(wide, "cpu"); // no ceiling there
  });
});

refused.run();
