// The compiled training step (hand-written backward, the step nnc trains with) equals the reference autograd step
// over several steps: loss, correct count, every gradient, every updated weight, optimizer slot and moving
// statistic, to 1e-5 relative, for every op the compiled path covers and batchnorm in both layouts (dense [N, C]
// and conv NHWC).
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { lowerLoss } from "../../src/lower/loss.ts";
import { Network } from "../../src/lower/network.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { createOptimizer } from "../../src/train/optimizers.ts";
import { autogradGradients } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { closeness, program, useBackend, values } from "../lower/helpers.ts";
import { absorbableBiases, assertStepsAgree, step } from "./step-agreement.ts";

const Step = suite("compiled step == autograd step, several steps");
Step.before(() => useBackend("wasm"));
// Cases on the cpu backend switch to it: back to wasm after each, failed or not.
Step.after.each(() => useBackend("wasm"));

const STEPS = 3;

const CASES: Array<[string, string, number[]]> = [
  ["dense + batchnorm [N,C] + relu, softmax CE", "input 6; dense 12; batchnorm; relu; dense 3 softmax", [6]],
  [
    // 6 channels: not the SIMD passes' multiple of 4, so [N, C] batchnorm takes its tf-op form on wasm too.
    "dense + batchnorm [N,C] over 6 channels (tf-op form)",
    "input 6; dense 6; batchnorm; relu; dense 3 softmax",
    [6],
  ],
  [
    "dense tanh / sigmoid, dropout, no bias",
    "input 6; dense 10 tanh; dropout 0.3; dense 8 sigmoid bias=false; dense 3 softmax",
    [6],
  ],
  [
    "batchnorm without gamma, unbiased moving variance",
    "input 6; dense 8; batchnorm scale=false variance=unbiased momentum=0.5; relu; dense 3 softmax",
    [6],
  ],
  [
    "conv2d same + batchnorm NHWC + relu + maxpool, flatten, dense",
    "input 6x6x2; conv2d 4 3x3 padding=same; batchnorm momentum=0.5; relu; maxpool 2x2; flatten; dense 3 softmax",
    [6, 6, 2],
  ],
  [
    "two convs (valid, bias, stride 2), NHWC batchnorm without beta",
    "input 7x7x1; conv2d 3 3x3 relu; conv2d 4 2x2 stride=2 bias=false; batchnorm center=false; relu; flatten; dense 2 softmax",
    [7, 7, 1],
  ],
  [
    // Strided input gradients are convolutions of the zero-dilated dz: 'same' on an odd size (7 -> 4), and a
    // valid window that leaves rows no output reaches (8 rows, 3 high, stride 2: rows 6 and 7 get zeros).
    "strided convs' input gradients: same 7x7 -> 4x4, valid 3x2 at stride 2x1 with leftover rows",
    "input 8x7x2; conv2d 3 3x3 padding=same; conv2d 4 3x3 stride=2 padding=same; relu; conv2d 3 1x1; conv2d 2 3x2 stride=2x1; relu; flatten; dense 2 softmax",
    [8, 7, 2],
  ],
  [
    "max pooling 3x3 over 6 channels (the wasm kernel's SIMD body and scalar tail)",
    "input 6x6x1; conv2d 6 3x3 padding=same; maxpool 3x3; flatten; dense 3 softmax",
    [6, 6, 1],
  ],
  [
    "max pooling 2x3 windows after relu",
    "input 4x6x2; conv2d 5 3x3 padding=same relu; maxpool 2x3; flatten; dense 3 softmax",
    [4, 6, 2],
  ],
  [
    // On wasm: filter gradients, dense matmuls and batchnorm passes on the SIMD kernels (widths multiples of 8),
    // 16 x 6 x 6 = 576 rows per channel at the first batchnorm: two of channelSums' blocks of 256 and a tail.
    "convnet-bn's form at 8 channels (wasm: SIMD filter gradients, matmuls and channel passes)",
    "input 6x6x1; conv2d 8 3x3 padding=same; batchnorm; relu; maxpool 2x2; conv2d 16 3x3 padding=same; batchnorm; relu; flatten; dense 8; batchnorm; relu; dense 3 softmax",
    [6, 6, 1],
  ],
  ["binary cross-entropy from logits", "input 6; dense 8; batchnorm; relu; dense 1 sigmoid", [6]],
  ["mse on a linear output", "input 6; dense 8 relu; dense 3; train { loss mse }", [6]],
  ["cross-entropy from the logits of a linear output", "input 6; dense 8 relu; dense 3", [6]],
];

// The softmax cross-entropy head runs in JS for small outputs, as tf kernels for large ones: both are checked
// (the second by setting the JS head's limit to 0).
const HEADS: Array<[string, number | undefined]> = [
  ["", undefined],
  [" (loss head as tf kernels)", 0],
];
// On cpu too for the pooling cases: there max pooling's gradient is the mask of tf kernels, not wasm's kernel.
const BACKENDS: Array<"wasm" | "cpu"> = ["wasm", "cpu"];
for (const [name, source, shape] of CASES) {
  for (const [head, jsLossHeadMaxValues] of HEADS) {
    for (const backend of BACKENDS) {
      if (jsLossHeadMaxValues === 0 && !source.includes("softmax")) continue;
      if (backend === "cpu" && (!source.includes("maxpool") || jsLossHeadMaxValues === 0)) continue;
      Step(name + head + (backend === "cpu" ? " (cpu backend)" : ""), async () => {
        await useBackend(backend);
        const p = program(source);
        if (source.includes("batchnorm") && !source.includes("bias=false"))
          assert.ok(absorbableBiases(p.models[0]!).length > 0, "the case has a bias before batchnorm");
        const reference = new Network(p.models[0]!, 4);
        const compiled = new Network(p.models[0]!, 4);
        const loss = lowerLoss(reference, p.train.loss);
        const manual = manualGradients(compiled, lowerLoss(compiled, p.train.loss), {
          ...(jsLossHeadMaxValues !== undefined ? { jsLossHeadMaxValues } : {}),
        });
        assert.ok(manual, "covered by the compiled step");
        const auto = autogradGradients(reference, loss);
        const optA = createOptimizer(
          { type: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
          reference.trainable,
        );
        const optM = createOptimizer(
          { type: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
          compiled.trainable,
        );
        const rng = new Random(11);
        const batch = 16;
        const size = shape.reduce((a, b) => a * b, 1);
        const out = p.models[0]!.layers.at(-1)!.outputShape!.at(-1)!;
        const classes = out === 1 ? 2 : out;
        for (let t = 1; t <= STEPS; t++) {
          const x = tf.tensor(
            Float32Array.from({ length: batch * size }, () => rng.normal()),
            [batch, ...shape],
          );
          const y = tf.tensor1d(
            Int32Array.from({ length: batch }, () => rng.int(classes)),
            "int32",
          );
          const a = step(auto, optA, x, y, t);
          const m = step(manual!, optM, x, y, t);
          tf.dispose([x, y]);
          assertStepsAgree(t, a, m, { reference, compiled, optA, optM });
        }
        optA.dispose();
        optM.dispose();
        reference.dispose();
        compiled.dispose();
      });
    }
  }
}

Step("max pooling grad routes to the maximum as tfjs does (no ties)", () => {
  // Overlapping windows take the backend's MaxPoolGrad; tiling ones the SIMD kernel (wasm). Against autograd.
  for (const source of [
    "input 4x4x2; maxpool 2x2; flatten; dense 2 softmax",
    "input 5x5x1; maxpool 3x3 stride=1; flatten; dense 2 softmax",
  ]) {
    const p = program(`${source}`);
    const net = new Network(p.models[0]!, 2);
    const shape = net.inputShape;
    const size = shape.reduce((a, b) => a * b, 1);
    const rng = new Random(3);
    const x = tf.tensor(
      Float32Array.from({ length: 4 * size }, () => rng.normal()),
      [4, ...shape],
    );
    const y = tf.tensor1d([0, 1, 1, 0], "int32");
    const lossA = lowerLoss(net, p.train.loss);
    const manual = manualGradients(net, lossA)!;
    assert.ok(manual, source);
    const ga = tf.tidy(() =>
      values(autogradGradients(net, lossA)({ x, y, dropoutRng: undefined }, []).grads["dense/kernel"]!),
    );
    const gm = tf.tidy(() => values(manual({ x, y, dropoutRng: undefined }, []).grads["dense/kernel"]!));
    assert.ok(closeness(gm, ga, 1e-5, 1e-6) <= 1, source);
    tf.dispose([x, y]);
    net.dispose();
  }
});

Step.run();
