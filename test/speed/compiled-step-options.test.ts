// The compiled step equals the autograd step over several steps with every training option of issue 14's optim
// part: weight decay, AdamW, each clipping rule, l2 kernel regularizers on dense and conv2d, label smoothing and
// class weights; loss, gradients, every weight and slot to 1e-5 (assertStepsAgree), on wasm and cpu.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { lowerLoss, modelLoss } from "../../src/lower/loss.ts";
import { Network } from "../../src/lower/network.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { createOptimizer } from "../../src/train/optimizers.ts";
import { autogradGradients } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { program, useBackend } from "../lower/helpers.ts";
import { assertStepsAgree, step } from "./step-agreement.ts";

const Options = suite("compiled step == autograd step, with every training option");
Options.after.each(() => useBackend("wasm"));

const MLP = "input 6; dense 12 l2=0.01; batchnorm; relu; dense 3 softmax l2=0.1";
const CONV =
  "input 6x6x1; conv2d 8 3x3 padding=same l2=0.05; batchnorm; relu; maxpool 2x2; flatten; dense 3 softmax";

const WEIGHTS = Float32Array.of(1, 2.5, 0.4);
type Case = [name: string, source: string, classWeights?: Float32Array, jsLossHeadMaxValues?: number];
export const CASES: Case[] = [
  ["adamw, l2 on dense", `${MLP}\ntrain { adamw lr=0.01 weight_decay=0.1 }`],
  [
    "sgd momentum, weight decay, clipnorm",
    `${MLP}\ntrain { sgd lr=0.1 momentum=0.9 weight_decay=0.01 clipnorm=0.2 }`,
  ],
  ["adam, global_clipnorm", `${MLP}\ntrain { adam lr=0.01 global_clipnorm=0.1 }`],
  ["rmsprop, clipvalue", `${MLP}\ntrain { rmsprop lr=0.01 clipvalue=0.01 weight_decay=0.2 }`],
  ["conv2d l2, adamw, clipnorm", `${CONV}\ntrain { adamw lr=0.01 clipnorm=0.5 }`],
  [
    "label smoothing (JS loss head)",
    `${MLP}\ntrain { loss crossentropy label_smoothing=0.2; sgd lr=0.1 momentum=0.9 }`,
  ],
  ["class weights (JS loss head)", `${MLP}\ntrain { sgd lr=0.1 momentum=0.9 }`, WEIGHTS],
  [
    "label smoothing and class weights (tf loss head)",
    `${MLP}\ntrain { loss crossentropy label_smoothing=0.1; sgd lr=0.1 }`,
    WEIGHTS,
    0,
  ],
  [
    "binary cross-entropy, label smoothing and class weights",
    "input 6; dense 8; batchnorm; relu; dense 1 sigmoid\ntrain { loss binary_crossentropy label_smoothing=0.3; sgd lr=0.1 }",
    Float32Array.of(0.5, 2),
  ],
  ["mse with class weights", "input 6; dense 8 relu; dense 3\ntrain { loss mse; sgd lr=0.1 }", WEIGHTS],
];

for (const [name, source, classWeights, jsLossHeadMaxValues] of CASES) {
  for (const backend of ["wasm", "cpu"] as const) {
    Options(`${name} (${backend})`, async () => {
      await useBackend(backend);
      const p = program(source);
      const model = p.models[0]!;
      const reference = new Network(model, 4);
      const compiled = new Network(model, 4);
      const loss = modelLoss(model, p.train.loss);
      const head = jsLossHeadMaxValues === undefined ? {} : { jsLossHeadMaxValues };
      const manual = manualGradients(compiled, lowerLoss(compiled, loss, classWeights), head);
      assert.ok(manual, "covered by the compiled step");
      const auto = autogradGradients(reference, lowerLoss(reference, loss, classWeights));
      const optA = createOptimizer(p.train.optimizer, reference.trainable);
      const optM = createOptimizer(p.train.optimizer, compiled.trainable);
      const rng = new Random(12);
      const shape = reference.inputShape;
      const size = shape.reduce((a, b) => a * b, 1);
      for (let t = 1; t <= 3; t++) {
        const x = tf.tensor(
          Float32Array.from({ length: 16 * size }, () => rng.normal()),
          [16, ...shape],
        );
        const y = tf.tensor1d(
          Int32Array.from({ length: 16 }, () => rng.int(classWeights?.length ?? 3)),
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

Options.run();
