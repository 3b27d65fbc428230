// Training with weight decay, AdamW, clipping, L2 kernel regularizers, label smoothing and class weights, end to
// end: the compiled step on one thread equals the autograd path (the oracle) to 1e-5, two threads equal one up
// to float rounding, and each option changes the run (each comparison can fail).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Dataset } from "../../src/data/types.ts";
import { buildModel } from "../../src/lower/model.ts";
import type { CompiledModel, EpochRecord, FitOptions, History } from "../../src/runtime/types.ts";
import { blobData, closeness, program, useBackend, values } from "../lower/helpers.ts";

const weightsOf = (m: CompiledModel) =>
  Object.fromEntries(Object.entries(m.getWeights()).map(([k, t]) => [k, values(t)]));
const figures = (h: History) =>
  h.epochs.flatMap((e: EpochRecord) => [e.loss, e.accuracy, e.valLoss, e.valAccuracy]);

async function train(source: string, data: Dataset, options: FitOptions & { gradients?: "autograd" }) {
  const m = buildModel(program(source), { backend: "wasm" });
  const history = await m.fit(data, options);
  const weights = weightsOf(m);
  m.dispose();
  return { history, weights };
}

/** `a` and `b` agree in every weight and every epoch's figures to rtol. */
function assertSame(a: Awaited<ReturnType<typeof train>>, b: typeof a, rtol: number, what: string) {
  const f = closeness(figures(a.history), figures(b.history), rtol, 1e-6);
  assert.ok(f <= 1, `${what}: history differs (${f}): ${figures(a.history)} vs ${figures(b.history)}`);
  for (const [name, w] of Object.entries(b.weights)) {
    const c = closeness(a.weights[name]!, w, rtol, 1e-6);
    assert.ok(c <= 1, `${what}: ${name} differs (${c})`);
  }
}

const MODEL = "input 4; dense 16; batchnorm; relu; dense 8; relu; dense 3 softmax";
const spec = (lines: string) =>
  `${MODEL}\ntrain {\n  data mnist\n  batch 9\n  epochs 2\n  seed 3\n${lines}\n}`;

/** Options, each alone and some together, as a spec writes them. */
export const OPTION_CASES: Array<[string, string]> = [
  ["adamw", "  optimizer adamw lr=0.01 weight_decay=0.1"],
  ["sgd weight_decay + clipnorm", "  optimizer sgd lr=0.1 momentum=0.9 weight_decay=0.01 clipnorm=0.5"],
  ["adam clipvalue", "  optimizer adam lr=0.01 clipvalue=0.05"],
  ["rmsprop global_clipnorm", "  optimizer rmsprop lr=0.01 global_clipnorm=0.3"],
];

const Equal = suite("training options: compiled == autograd, two threads == one");
Equal.before(() => useBackend("wasm"));

for (const [name, lines] of OPTION_CASES) {
  Equal(name, async () => {
    const data = blobData(180);
    const source = spec(lines);
    const oracle = await train(source, data, { threads: 1, gradients: "autograd" });
    const one = await train(source, data, { threads: 1 });
    const two = await train(source, data, { threads: 2 });
    assert.is(two.history.threads, 2);
    assertSame(one, oracle, 1e-5, "compiled vs autograd");
    assertSame(two, one, 1e-5, "two threads vs one");
    // The option matters: without it the run ends elsewhere.
    const plain = await train(spec("  optimizer sgd lr=0.1"), data, { threads: 1 });
    assert.ok(
      closeness(figures(one.history), figures(plain.history), 1e-3, 1e-6) > 1,
      "the option changes the run",
    );
  });
}

Equal.run();
