// Optimizer defaults live in one table (src/ir/optimizer-defaults.ts): `vary optimizer` takes them from there,
// they agree with what the builder gives `optimizer NAME` without options, and experiments never reach into the
// builder's tables for them.
import { readdirSync, readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { OPTIMIZER_DEFAULTS, defaultOptimizer, describeOptimizer } from "../../src/ir/optimizer-defaults.ts";
import { OPTIMIZERS } from "../../src/ir/schema.ts";
import { stripSpans } from "../../src/util/canonical-json.ts";

const defaults = suite("optimizer defaults");

defaults("describeOptimizer: type, lr and each setting off its default, as a spec writes them", () => {
  assert.is(describeOptimizer(defaultOptimizer("adam")), "adam lr=0.001");
  assert.is(
    describeOptimizer({ type: "sgd", lr: 0.05, momentum: 0.9, nesterov: true }),
    "sgd lr=0.05 momentum=0.9 nesterov=true",
  );
  assert.is(describeOptimizer({ ...defaultOptimizer("rmsprop"), rho: 0.8 }), "rmsprop lr=0.001 rho=0.8");
  // AdamW's default weight_decay (0.004) is its default: not shown; set ones are, in the language's spelling.
  assert.is(describeOptimizer(defaultOptimizer("adamw")), "adamw lr=0.001");
  assert.is(
    describeOptimizer({ ...defaultOptimizer("adamw"), weightDecay: 0.01, globalClipnorm: 1 }),
    "adamw lr=0.001 weight_decay=0.01 global_clipnorm=1",
  );
  assert.is(
    describeOptimizer({ ...defaultOptimizer("sgd"), weightDecay: 1e-4, clipvalue: 0.5, span: [1, 2] }),
    "sgd lr=0.01 weight_decay=0.0001 clipvalue=0.5",
  );
});

defaults("defaultOptimizer: Keras' settings with the given lr, a fresh object each time", () => {
  assert.equal(defaultOptimizer("sgd", 1), { type: "sgd", lr: 1, momentum: 0, nesterov: false });
  assert.equal(defaultOptimizer("adam"), {
    type: "adam",
    lr: 0.001,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  });
  const a = defaultOptimizer("rmsprop");
  a.rho = 0.5;
  assert.is(OPTIMIZER_DEFAULTS.rmsprop.rho, 0.9);
});

defaults("the builder gives `optimizer NAME` without options exactly the table's defaults", () => {
  for (const type of OPTIMIZERS) {
    const result = compile(`input 4\ndense 2 softmax\ntrain { optimizer ${type} }`);
    assert.ok(result.ok, type);
    assert.equal(stripSpans(result.program!.train.optimizer), OPTIMIZER_DEFAULTS[type], type);
  }
  // And the train block one gets without any optimizer statement.
  const plain = compile("input 4\ndense 2 softmax");
  assert.equal(stripSpans(plain.program!.train.optimizer), OPTIMIZER_DEFAULTS.adam);
});

defaults("src/experiment imports nothing from the builder", () => {
  const dir = new URL("../../src/experiment/", import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    assert.not.match(readFileSync(new URL(file, dir), "utf8"), /from "\.\.\/build\//, file);
  }
});

defaults.run();
