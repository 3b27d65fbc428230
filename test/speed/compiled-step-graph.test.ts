// The compiled training step over graph models (add, concat, residual blocks with batchnorm, a projection
// shortcut) equals the reference autograd step over several Adam steps: loss, correct count, every gradient,
// every updated weight and moving statistic, every optimizer slot, to 1e-5 relative; on wasm and cpu. Plus the
// graph rules the step relies on: which biases batchnorm absorbs, where a relu is fused, which nodes compute
// input gradients.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { lowerLoss } from "../../src/lower/loss.ts";
import { Network } from "../../src/lower/network.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { createOptimizer } from "../../src/train/optimizers.ts";
import { autogradGradients } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { GRAPHS, graphProgram } from "../lower/graph-helpers.ts";
import { useBackend, values } from "../lower/helpers.ts";
import { absorbableBiases, assertStepsAgree, step } from "./step-agreement.ts";

const Step = suite("compiled step == autograd step on graphs");
Step.before(() => useBackend("wasm"));
Step.after.each(() => useBackend("wasm"));

const STEPS = 3;

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
        absorbableBiases(model).sort(),
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
        // Batch statistics reported in node order by both paths.
        assert.equal(m.stats, a.stats);
        assert.equal(
          Object.keys(m.grads).sort(),
          compiled.trainable.map((w) => w.name).sort(),
          "a gradient for every trainable weight",
        );
        assertStepsAgree(t, a, m, { reference, compiled, optA, optM });
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
