// Lowering graphs: every op has a kernel module in the registry, lowering and the compiled step consult it
// instead of switching on op names, a graph's forward (add, concat, a node feeding two others) equals the same
// computation written out in tf ops, and the logits node is found only where the loss may read it.
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { KERNELS } from "../../src/kernels/index.ts";
import { Network } from "../../src/lower/network.ts";
import { OPS } from "../../src/ops/index.ts";
import { graphProgram, node } from "./graph-helpers.ts";
import { closeness, program, useBackend, values } from "./helpers.ts";

const Graph = suite("lowering graphs");
Graph.before(() => useBackend("wasm"));

Graph("every op has a kernel module, registered under its op", () => {
  assert.equal(Object.keys(KERNELS).sort(), OPS.map((o) => o.op).sort());
  for (const [op, kernel] of Object.entries(KERNELS)) assert.is(kernel.op, op);
});

Graph("lowering and the compiled step walk the graph through the registry: no switch on op names", () => {
  for (const file of ["src/lower/network.ts", "src/train/manual-backward.ts"]) {
    const text = readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
    assert.not.match(text, /case "[a-z0-9]+":/, `${file} has a case on an op name`);
    assert.not.match(text, /\.op === "(?!input")/, `${file} compares an op name`);
    assert.not.match(text, /layers\[(i|index) [+-] 1\]/, `${file} looks up a neighbour by list position`);
  }
});

Graph("a graph's forward: add, concat, a node taken twice, in both modes", () => {
  const p = graphProgram([
    node.input("x", [3]),
    node.dense("a", "x", 4, "relu"),
    node.dense("b", "x", 4, "tanh"),
    node.add("sum", ["a", "b", "a"]),
    node.concat("joined", ["sum", "x"]),
    node.dense("out", "joined", 2, "softmax"),
  ]);
  const net = new Network(p.models[0]!, 1);
  const w = (name: string) => net.weight(name)!.variable;
  tf.tidy(() => {
    const x = tf.tensor2d([0.5, -1, 2, 1, 0, -0.5], [2, 3]);
    const layer = (name: string, h: tf.Tensor) =>
      tf.add(tf.matMul(h as tf.Tensor2D, w(`${name}/kernel`) as tf.Tensor2D), w(`${name}/bias`));
    const a = tf.relu(layer("a", x));
    const sum = tf.add(tf.add(a, tf.tanh(layer("b", x))), a);
    const expected = values(tf.softmax(layer("out", tf.concat([sum, x], 1))));
    for (const training of [false, true]) {
      const got = values(net.forward(x, { training, bnStats: [] }));
      assert.ok(closeness(got, expected, 1e-5, 1e-6) <= 1, `training ${training}: ${got} vs ${expected}`);
    }
    // With logits: the output node's pre-softmax values.
    const logits = values(net.forward(x, { training: false, logits: true }));
    assert.ok(closeness(logits, values(layer("out", tf.concat([sum, x], 1))), 1e-5, 1e-6) <= 1);
  });
  net.dispose();
});

Graph("the logits node: behind flatten and a linear activation; not behind a merge or dropout", () => {
  const logits = (layers: Parameters<typeof graphProgram>[0]) => {
    const net = new Network(graphProgram(layers).models[0]!, 1);
    const at = net.logitsLayer;
    net.dispose();
    return at;
  };
  assert.is(
    logits([
      node.input("x", [4]),
      node.dense("a", "x", 3, "softmax"),
      node.flatten("f", "a"),
      node.activation("lin", "f", "linear"),
    ]),
    1,
  );
  // The output is a merge: no activation to take the logits of.
  assert.is(
    logits([
      node.input("x", [4]),
      node.dense("a", "x", 3, "softmax"),
      node.dense("b", "x", 3, "softmax"),
      node.add("sum", ["a", "b"]),
    ]),
    -1,
  );
  // Dropout scales values in training: the softmax of dropped-out logits is not the dropped-out softmax.
  const chain = program("input 4; dense 3 softmax; dropout 0.5");
  const net = new Network(chain.models[0]!, 1);
  assert.is(net.logitsLayer, -1);
  net.dispose();
});

Graph.run();
