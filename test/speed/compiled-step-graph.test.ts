// The compiled training step over graph models (add, concat, residual blocks with batchnorm, a projection
// shortcut) equals the reference autograd step over several Adam steps: loss, correct count, every gradient,
// every updated weight and moving statistic, every optimizer slot, to 1e-5 relative; on wasm and cpu. Plus the
// graph rules the step relies on: which biases batchnorm absorbs, where a relu is fused, which nodes compute
// input gradients.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { consumersOf, nodesByName } from "../../src/ir/graph.ts";
import type { Model } from "../../src/ir/schema.ts";
import { lowerLoss } from "../../src/lower/loss.ts";
import { Network } from "../../src/lower/network.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { createOptimizer, type Optimizer } from "../../src/train/optimizers.ts";
import { autogradGradients, updateMovingStatisticsInPlace, type GradientFn } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { GRAPHS, graphProgram } from "../lower/graph-helpers.ts";
import { closeness, useBackend, values } from "../lower/helpers.ts";

const Step = suite("compiled step == autograd step on graphs");
Step.before(() => useBackend("wasm"));
Step.after.each(() => useBackend("wasm"));

const STEPS = 3;

/**
 * Biases that feed a batchnorm as its producer's one consumer: their exact gradient is 0. Worked out from the
 * IR here, independently of Network.absorbedBiases.
 */
function absorbable(model: Model): string[] {
  const nodes = nodesByName(model);
  const consumers = consumersOf(model);
  return model.layers.flatMap((l) => {
    if (l.op !== "batchnorm") return [];
    const p = nodes.get(l.inputs[0]!)!;
    const affine = (p.op === "dense" || p.op === "conv2d") && p.activation === "linear" && p.useBias;
    return affine && consumers.get(p.name)!.length === 1 ? [`${p.name}/bias`] : [];
  });
}

function step(fn: GradientFn, opt: Optimizer, x: tf.Tensor, y: tf.Tensor1D, t: number) {
  const kept: tf.Tensor[] = [];
  const out = tf.tidy(() => {
    const dropoutRng = (layer: string) => new Random(9).fork(`dropout:${t}:${layer}`);
    const g = fn({ x, y, dropoutRng }, kept);
    const grads = Object.fromEntries(Object.entries(g.grads).map(([k, v]) => [k, values(v)]));
    const loss = values(g.loss)[0]!;
    const correct = values(g.correct)[0]!;
    const stats = g.bnStats.map((s) => s.node.layer.name);
    opt.apply(g.grads);
    updateMovingStatisticsInPlace(g.bnStats);
    return { loss, correct, grads, stats };
  });
  tf.dispose(kept);
  return out;
}

const ADAM = { type: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

for (const [name, layers, shape] of GRAPHS) {
  for (const backend of ["wasm", "cpu"] as const) {
    Step(`${name}${backend === "cpu" ? " (cpu backend)" : ""}`, async () => {
      await useBackend(backend);
      const p = graphProgram(layers);
      const model = p.models[0]!;
      const reference = new Network(model, 4);
      const compiled = new Network(model, 4);
      assert.equal(
        compiled.absorbedBiases.map((w) => w.name).sort(),
        absorbable(model).sort(),
        "absorbed biases",
      );
      const loss = lowerLoss(reference, p.train.loss);
      const manual = manualGradients(compiled, lowerLoss(compiled, p.train.loss));
      assert.ok(manual, "covered by the compiled step");
      const auto = autogradGradients(reference, loss);
      const optA = createOptimizer(ADAM, reference.trainable);
      const optM = createOptimizer(ADAM, compiled.trainable);
      const rng = new Random(11);
      const batch = 12;
      const size = shape.reduce((a, b) => a * b, 1);
      for (let t = 1; t <= STEPS; t++) {
        const x = tf.tensor(
          Float32Array.from({ length: batch * size }, () => rng.normal()),
          [batch, ...shape],
        );
        const y = tf.tensor1d(
          Int32Array.from({ length: batch }, () => rng.int(3)),
          "int32",
        );
        const a = step(auto, optA, x, y, t);
        const m = step(manual!, optM, x, y, t);
        tf.dispose([x, y]);
        assert.ok(
          Math.abs(a.loss - m.loss) <= 1e-5 * Math.abs(a.loss) + 1e-6,
          `step ${t} loss ${a.loss} vs ${m.loss}`,
        );
        assert.is(m.correct, a.correct, `step ${t} correct`);
        // Batch statistics reported in node order by both paths.
        assert.equal(m.stats, a.stats);
        assert.equal(Object.keys(m.grads).sort(), Object.keys(a.grads).sort());
        assert.equal(
          Object.keys(m.grads).sort(),
          compiled.trainable.map((w) => w.name).sort(),
          "a gradient for every trainable weight",
        );
        for (const k of absorbable(model)) {
          assert.ok(
            m.grads[k]!.every((g) => g === 0) && a.grads[k]!.every((g) => g === 0),
            `${k} gradient 0`,
          );
        }
        for (const k of Object.keys(a.grads)) {
          const c = closeness(m.grads[k]!, a.grads[k]!, 1e-5, 1e-6);
          assert.ok(c <= 1, `step ${t} gradient ${k}: worst ${c}`);
        }
        // Every weight, the moving statistics included.
        for (const w of reference.weights) {
          const c = closeness(values(compiled.weight(w.name)!.variable), values(w.variable), 1e-5, 1e-6);
          assert.ok(c <= 1, `step ${t} weight ${w.name}: worst ${c}`);
        }
        const slotsA = optA.slots();
        const slotsM = optM.slots();
        for (const k of Object.keys(slotsA)) {
          const c = closeness(slotsM[k]!.data, slotsA[k]!.data, 1e-4, 1e-7);
          assert.ok(c <= 1, `step ${t} slot ${k}: worst ${c}`);
        }
      }
      // The moving statistics moved (momentum 0.5): the comparison above was not of untouched values.
      for (const b of compiled.batchNorms) {
        assert.ok(
          values(b.weights.movingMean).some((v) => v !== 0),
          `${b.layer.name} moving mean`,
        );
      }
      optA.dispose();
      optM.dispose();
      reference.dispose();
      compiled.dispose();
    });
  }
}

Step(
  "a relu is fused into a batchnorm only as its one consumer; a bias absorbed only by a one consumer",
  () => {
    const [, layers] = GRAPHS.find(([name]) => name.startsWith("a producer with two consumers"))!;
    const net = new Network(graphProgram(layers).models[0]!, 1);
    assert.equal(net.absorbedBiases, [], "d feeds the add too: its bias stays");
    assert.is(net.batchNorms[0]!.absorbedBias, undefined);
    const residual = GRAPHS.find(([name]) => name.startsWith("residual block with batchnorm"))!;
    const res = new Network(graphProgram(residual[1]).models[0]!, 1);
    assert.equal(
      res.absorbedBiases.map((w) => w.name),
      ["stem/bias", "block_conv1/bias", "block_conv2/bias"],
    );
    assert.equal(
      res.batchNorms.map((b) => [b.layer.name, b.index]),
      [
        ["stem_bn", 2],
        ["block_bn1", 5],
        ["block_bn2", 8],
      ],
    );
    net.dispose();
    res.dispose();
  },
);

Step.run();
