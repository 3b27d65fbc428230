// withTrainOverrides: the one way settings get overridden (experiment train blocks, CLI options, grid cells).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { withTrainOverrides, type Train } from "../../src/ir/index.ts";

const base = (): Train =>
  compile(
    "input 4\ndense 2 softmax\ntrain {\n data mnist limit=100\n adam lr=0.01\n bnstats ema sample=50\n}",
  ).program!.train;
const overrides = suite("withTrainOverrides");

overrides("top-level settings replace; undefined ones are ignored; the input is not modified", () => {
  const train = base();
  const before = structuredClone(train);
  const out = withTrainOverrides(train, { epochs: 9, batch: undefined, seed: 3 });
  assert.equal([out.epochs, out.batch, out.seed], [9, train.batch, 3]);
  assert.equal(train, before);
});

overrides("data and bnstats merge field by field; a new source drops the old span", () => {
  const train = base();
  assert.ok(train.data.span);
  const limited = withTrainOverrides(train, { data: { limit: 10 } });
  assert.equal([limited.data.source, limited.data.limit, limited.data.span], ["mnist", 10, train.data.span]);
  const moved = withTrainOverrides(train, { data: { source: "fashion-mnist" } });
  assert.equal([moved.data.source, moved.data.limit, moved.data.span], ["fashion-mnist", 100, undefined]);
  // A CSV's label column belongs to that file: `--data mnist` over `data csv:a.csv label=y` drops it.
  const csv = withTrainOverrides(train, { data: { source: "csv:a.csv", label: "y" } });
  assert.is(withTrainOverrides(csv, { data: { source: "mnist" } }).data.label, undefined);
  assert.is(withTrainOverrides(csv, { data: { limit: 5 } }).data.label, "y");
  const mode = withTrainOverrides(train, { bnstats: { mode: "exact" } });
  assert.equal(mode.bnstats, { mode: "exact", sample: 50 });
});

overrides("an optimizer with a type replaces the base one; fields without merge into it", () => {
  const train = base();
  const lr = withTrainOverrides(train, { optimizer: { lr: 0.5 } });
  assert.equal(lr.optimizer, { ...train.optimizer, lr: 0.5 });
  const sgd = withTrainOverrides(train, {
    optimizer: { type: "sgd", lr: 0.1, momentum: 0, nesterov: false },
  });
  assert.equal(sgd.optimizer, { type: "sgd", lr: 0.1, momentum: 0, nesterov: false });
});
overrides.run();
