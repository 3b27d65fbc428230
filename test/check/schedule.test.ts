// `schedule` and `early_stop` from text to checked IR: the IR they build (Keras' defaults), each option belongs
// to its schedule (E235), required options (E236), ranges (E237), `nnc check`'s errors and lints against the run
// (E335, E336, W413, W414) and against the data (E337), `vary schedule` (E307 and the grid's cells), and
// `nnc fmt` keeps them as written.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkDataFit } from "../../src/check/data-fit.ts";
import { compile } from "../../src/compile.ts";
import type { DataMetadata } from "../../src/data/metadata.ts";
import { expandGrid } from "../../src/experiment/grid.ts";
import { summarizeCell } from "../../src/experiment/run-cell.ts";
import { CellResultSchema } from "../../src/experiment/results-schema.ts";
import { Ajv } from "ajv";
import { formatSource } from "../../src/format/index.ts";
import { codes, diagnosticsOf, spanText } from "../build/helpers.ts";
import { firstEpochBelow } from "../../src/check/schedule.ts";
import { LearningRate } from "../../src/ir/learning-rate.ts";
import { parseScheduleText } from "../../src/ir/schedule.ts";

const MODEL = "input 4\ndense 3 softmax\n";
const spec = (train: string, rest = "") => `${MODEL}train {\n  epochs 10\n${train}\n}\n${rest}`;
const programOf = (text: string) => {
  const r = compile(text);
  if (!r.program) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.program;
};

const S = suite("schedule and early_stop: build and check");

S("the IR holds each schedule with its defaults; early_stop with Keras' (restore on)", () => {
  const train = (line: string) => programOf(spec(`  ${line}`)).train;
  assert.equal(strip(train("schedule cosine").schedule), { type: "cosine", min: 0 });
  assert.equal(strip(train("schedule step every=3").schedule), { type: "step", every: 3, factor: 0.1 });
  assert.equal(strip(train("schedule plateau warmup=2").schedule), {
    type: "plateau",
    patience: 10,
    factor: 0.1,
    min: 0,
    warmup: 2,
  });
  assert.equal(strip(train("schedule onecycle max=0.1").schedule), { type: "onecycle", max: 0.1 });
  assert.equal(strip(train("early_stop").earlyStop), {
    monitor: "val_loss",
    patience: 0,
    minDelta: 0,
    restore: true,
  });
  assert.equal(
    strip(train("early_stop monitor=val_accuracy patience=3 min_delta=0.001 restore=false").earlyStop),
    {
      monitor: "val_accuracy",
      patience: 3,
      minDelta: 0.001,
      restore: false,
    },
  );
  assert.is(programOf(spec("")).train.schedule, undefined, "absent: today's constant rate");
});

function strip<T>(value: T): Omit<T, "span"> {
  const { span: _s, ...rest } = value as T & { span?: unknown };
  return rest;
}

S("an option of another schedule (E235), a missing one (E236), out of range (E237), at the option", () => {
  const text = spec("  schedule cosine every=2");
  const d = diagnosticsOf(text);
  assert.equal(codes(d), ["E235"]);
  assert.is(spanText(text, d[0]!), "every=2");
  assert.match(d[0]!.message, /schedule cosine has no option every= \(it takes min=, warmup=\)/);
  const missing = diagnosticsOf(spec("  schedule step factor=0.5"));
  assert.equal(codes(missing), ["E236"]);
  assert.match(missing[0]!.message, /schedule step needs every=/);
  const range = spec("  schedule plateau factor=1.5");
  const r = diagnosticsOf(range);
  assert.equal(codes(r), ["E237"]);
  assert.is(spanText(range, r[0]!), "factor=1.5");
  assert.equal(codes(diagnosticsOf(spec("  schedule sine"))), ["E202"]);
  assert.equal(codes(diagnosticsOf(spec("  early_stop monitor=loss"))), ["E202"]);
});

S("a rate that reaches 0 before the last epoch (E335), a warm-up as long as the run (E336)", () => {
  const zero = spec("  schedule step every=3 factor=0");
  const d = diagnosticsOf(zero);
  assert.equal(codes(d), ["E335"]);
  assert.match(d[0]!.message, /brings the learning rate to 0 by epoch 4 of 10/);
  assert.is(spanText(zero, d[0]!), "schedule step every=3 factor=0");
  // 0.01^9 of lr is below 2^-24: no float32 weight changes by then.
  assert.equal(codes(diagnosticsOf(spec("  schedule exponential rate=0.01"))), ["E335"]);
  assert.equal(codes(diagnosticsOf(spec("  schedule exponential rate=0.5"))), []);
  assert.equal(codes(diagnosticsOf(spec("  schedule cosine"))), [], "cosine reaches min only after the run");
  assert.equal(codes(diagnosticsOf(spec("  schedule cosine warmup=10"))), ["E336"]);
  assert.equal(codes(diagnosticsOf(spec("  schedule cosine warmup=9"))), []);
  // In an experiment, with the epochs it varies.
  const exp = spec("  schedule cosine warmup=3", "experiment e {\n  vary epochs 3 20\n}\n");
  const e = diagnosticsOf(exp);
  assert.equal(codes(e), ["E336"]);
  assert.match(e[0]!.message, /in experiment 'e' \(vary epochs 3\)/);
  assert.is(spanText(exp, e[0]!), "vary epochs 3 20");
});

S("E335's first epoch below the floor: the bisection finds what visiting every epoch finds", () => {
  // Every schedule kind, decaying to below 2^-24 of lr or not, with warm-up and without.
  const schedules = [
    "step every=3 factor=0.1",
    "step every=1 factor=0.5",
    "step every=2 factor=2",
    "exponential rate=0.3",
    "exponential rate=0.9",
    "cosine",
    "cosine min=0.001",
    "cosine warmup=5",
    "onecycle max=0.1",
    "onecycle max=0.1 warmup=3",
    "plateau patience=2",
  ];
  for (const text of schedules) {
    const parsed = parseScheduleText(text);
    if (!("schedule" in parsed)) throw new Error(text);
    for (const epochs of [7, 40, 200, 5000]) {
      const rates = new LearningRate(parsed.schedule, 0.01, { epochs, stepsPerEpoch: 1 });
      const floor = 0.01 * 2 ** -24;
      const first = (parsed.schedule.warmup ?? 0) + 1;
      let linear: number | undefined;
      for (let e = first; e <= epochs && linear === undefined; e++) if (rates.at(e, 1) < floor) linear = e;
      assert.is(
        firstEpochBelow((e) => rates.at(e, 1), floor, first, epochs),
        linear,
        `${text}, ${epochs} epochs`,
      );
    }
  }
});

S("2^31 epochs under a schedule: checked in a few steps, not one per epoch (it took a minute)", () => {
  let calls = 0;
  const d = diagnosticsOf(`${MODEL}train {\n  epochs 2147483648\n  schedule cosine warmup=1\n}\n`);
  assert.equal(codes(d), ["E335"]);
  assert.match(d[0]!.message, /by epoch \d+ of 2147483648/);
  firstEpochBelow((e) => (calls++, 1 / e), 1e-9, 1, 2 ** 31);
  assert.ok(calls < 64, `${calls} rate evaluations`);
});

S("W415: a cosine or plateau floor not below the learning rate", () => {
  const lr = (line: string) => spec(`  optimizer adam lr=0.01\n  ${line}`);
  const rises = diagnosticsOf(lr("schedule cosine min=0.1"));
  assert.equal(codes(rises), ["W415"]);
  assert.match(rises[0]!.message, "min=0.1, not below the learning rate lr=0.01: the rate rises to min");
  assert.is(spanText(lr("schedule cosine min=0.1"), rises[0]!), "schedule cosine min=0.1");
  assert.match(diagnosticsOf(lr("schedule cosine min=0.01"))[0]!.message, "the rate stays constant");
  assert.match(diagnosticsOf(lr("schedule plateau patience=2 min=0.05"))[0]!.message, "never lowered");
  assert.equal(codes(diagnosticsOf(lr("schedule cosine min=0.001"))), []);
  assert.equal(codes(diagnosticsOf(lr("schedule plateau patience=2 min=0.001"))), []);
});

S("early stopping or plateau that cannot act within the run (W413, W414)", () => {
  const stop = spec("  early_stop patience=9");
  const d = diagnosticsOf(stop);
  assert.equal(codes(d), ["W413"]);
  assert.match(d[0]!.message, /the earliest stop is after epoch 10, and the run has 10/);
  assert.equal(codes(diagnosticsOf(spec("  early_stop patience=8"))), []);
  assert.equal(codes(diagnosticsOf(spec("  schedule plateau patience=5 warmup=4"))), ["W414"]);
  assert.equal(codes(diagnosticsOf(spec("  schedule plateau patience=4 warmup=4"))), []);
});

S("early stopping and plateau need validation data, not the test set (E337, from the data)", () => {
  const meta = (over: Partial<DataMetadata> = {}): DataMetadata => ({
    source: "mnist",
    sampleShape: [4],
    numClasses: 3,
    labelKind: "class-index",
    trainCount: 8000,
    testCount: 2000,
    ...over,
  });
  const text = spec("  data mnist\n  early_stop patience=2\n  schedule plateau");
  const d = checkDataFit(programOf(text), () => meta());
  assert.equal(codes(d), ["E337", "E337"]);
  assert.is(spanText(text, d[0]!), "early_stop patience=2");
  assert.match(d[0]!.message, /validates on its test set/);
  assert.match(d[0]!.help!, /data mnist validation=0.1/);
  // A hold-out, or a source without a test set (it holds out validation by default): nothing to say.
  assert.equal(
    codes(checkDataFit(programOf(text.replace("data mnist", "data mnist validation=0.1")), () => meta())),
    [],
  );
  assert.equal(codes(checkDataFit(programOf(text), () => meta({ testCount: undefined }))), []);
});

S("vary schedule: names or quoted schedules; cells train with them", () => {
  const text = spec(
    "  schedule cosine warmup=1",
    'experiment e {\n  vary schedule constant cosine "step every=2 factor=0.5"\n}\n',
  );
  const program = programOf(text);
  const cells = expandGrid(program, program.experiments[0]!);
  assert.equal(
    cells.map((c) => c.train.schedule),
    [{ type: "constant" }, { type: "cosine", min: 0 }, { type: "step", every: 2, factor: 0.5 }],
  );
  assert.equal(
    cells.map((c) => c.group),
    ["model schedule=constant", "model schedule=cosine", 'model schedule="step every=2 factor=0.5"'],
  );
  const bad = spec("", 'experiment e {\n  vary schedule cosine step "cosine every=2"\n}\n');
  const d = diagnosticsOf(bad);
  assert.equal(codes(d), ["E307", "E307"]);
  assert.match(d[0]!.help!, /schedule step needs every=/);
  assert.match(d[1]!.help!, /schedule cosine takes min=, warmup=, not every=/);
});

S("an experiment cell with early stopping: final is the kept epoch's, and results say what it did", () => {
  const program = programOf(
    spec("  data mnist validation=0.1\n  early_stop patience=1", "experiment e {\n  repeat 1\n}\n"),
  );
  const [cell] = expandGrid(program, program.experiments[0]!);
  const epoch = (n: number, valLoss: number, valAccuracy: number) => ({
    epoch: n,
    loss: 1 / n,
    accuracy: 0.5,
    valLoss,
    valAccuracy,
    seconds: 1,
    samplesPerSecond: 10,
    lr: 0.001,
  });
  const history = [epoch(1, 0.9, 0.7), epoch(2, 0.5, 0.8), epoch(3, 0.6, 0.79)];
  const earlyStop = { monitor: "val_loss" as const, bestEpoch: 2, stoppedAfter: 3, restored: true };
  const result = summarizeCell(cell!, history, { backend: "x", seconds: 3, samplesPerSecond: 10, earlyStop });
  assert.equal(result.final, { loss: 0.5, accuracy: 0.5, valLoss: 0.5, valAccuracy: 0.8 });
  assert.equal(result.earlyStop, earlyStop);
  const valid = new Ajv({ strict: false, formats: { "date-time": /./ } }).compile(CellResultSchema);
  assert.ok(
    valid(JSON.parse(JSON.stringify(result))),
    `results.json's schema: ${JSON.stringify(valid.errors)}`,
  );
  const last = summarizeCell(cell!, history, {
    backend: "x",
    seconds: 3,
    samplesPerSecond: 10,
    earlyStop: { ...earlyStop, restored: false },
  });
  assert.is(last.final.valLoss, 0.6, "restore=false: the last epoch's");
});

S("nnc fmt keeps the statements as written", async () => {
  const text = spec("  schedule   cosine min=1e-5  warmup=2\n  early_stop monitor=val_accuracy   patience=3");
  const out = await formatSource(text);
  assert.match(
    out,
    /\n {2}schedule cosine min=1e-5 warmup=2\n {2}early_stop monitor=val_accuracy patience=3\n/,
  );
});

S.run();
