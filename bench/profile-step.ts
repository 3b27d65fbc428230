// Per-step time breakdown: kernel times of nnc's training step by kernel name (tf.profile), for a bench model at
// a batch size, on wasm. Shows where a step goes before anything is optimised.
// Usage: npx tsx bench/profile-step.ts [bn-mlp|mlp|convnet-bn|resnet] [batch=128] [gradients=auto|autograd]
import * as tf from "@tensorflow/tfjs-core";
import { resolveLoss } from "../src/check/loss.ts";
import { lowerLoss } from "../src/lower/loss.ts";
import { Network } from "../src/lower/network.ts";
import { selectBackend } from "../src/runtime/backend.ts";
import { chooseGradients } from "../src/train/fit.ts";
import { createOptimizer } from "../src/train/optimizers.ts";
import { trainStep } from "../src/train/step.ts";
import { Random } from "../src/util/random.ts";
import { benchProgram, type BenchModel } from "./peers/models.ts";

const model = (process.argv[2] ?? "bn-mlp") as BenchModel;
const batch = Number(process.argv[3] ?? 128);
const choice = (process.argv[4] ?? "auto") as "auto" | "autograd";
await selectBackend("wasm");
const program = benchProgram(model, "mnist", batch);
const net = new Network(program.models[0]!, 1);
const loss = lowerLoss(net, resolveLoss(net.model, program.train.loss).loss);
const { gradients } = chooseGradients(net, loss, choice);
const optimizer = createOptimizer(program.train.optimizer, net.trainable);
const rng = new Random(1);
const xs = Float32Array.from({ length: batch * 784 }, () => rng.next());
const ys = Int32Array.from({ length: batch }, () => rng.int(10));
const step = () => {
  const x = tf.tensor(xs, [batch, ...net.inputShape]);
  const y = tf.tensor1d(ys, "int32");
  trainStep(gradients, optimizer, { x, y, dropoutRng: (l) => rng.fork(l) });
  tf.dispose([x, y]);
};
// Warm-up: V8 tiers the step's JS up over the first hundreds of steps (a BN MLP step at batch 32 averaged 2.3 ms
// over steps 20-40 and 0.7 ms once warm): at least 1 s and 50 steps, then the best of 5 rounds.
const warmUntil = performance.now() + 1000;
for (let i = 0; i < 50 || performance.now() < warmUntil; i++) step();
const steps = 20;
let wall = Infinity;
for (let round = 0; round < 5; round++) {
  const began = performance.now();
  for (let i = 0; i < steps; i++) step();
  wall = Math.min(wall, (performance.now() - began) / steps);
}
const info = await tf.profile(() => {
  for (let i = 0; i < steps; i++) step();
});
const byName = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += Number(k.kernelTimeMs) / steps;
  e.calls += 1 / steps;
  byName.set(k.name, e);
}
const total = [...byName.values()].reduce((a, b) => a + b.ms, 0);
console.log(
  `${model} batch ${batch}, ${choice}: ${wall.toFixed(2)} ms/step wall (${Math.round((batch / wall) * 1000)} samples/s), tfjs kernels ${total.toFixed(2)} ms, ${info.kernels.length / steps} kernels/step (simd-kernels.wat calls are not tfjs kernels: in the wall time only)`,
);
for (const [name, e] of [...byName]
  .sort((a, b) => b[1].ms - a[1].ms)
  .slice(0, Number(process.env.TOP ?? 14))) {
  console.log(
    `  ${name.padEnd(24)} ${e.ms.toFixed(3).padStart(8)} ms  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  x${e.calls}`,
  );
}
