// Training benchmark: samples/s of the notebook's BN MLP (dense 128 -> batchnorm -> relu -> dense 64 ->
// batchnorm -> relu -> dense 10 softmax) on the wasm backend at batch 32/128/512, through nnc's own loop with
// the hand-written backward and with autograd (the oracle). Training steps only (validation excluded).
// Run: npx tsx bench/train.ts [source=mnist] [epochs=2]
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { compile } from "../src/compile.ts";
import { loadDataset } from "../src/data/index.ts";
import { Network } from "../src/lower/network.ts";
import { fitNetwork } from "../src/train/fit.ts";

const source = process.argv[2] ?? "mnist";
const epochs = Number(process.argv[3] ?? 2);
if (!(await tf.setBackend("wasm")) || tf.getBackend() !== "wasm")
  throw new Error("the wasm backend failed to start");

const spec = (batch: number) => `input 28x28
flatten
dense 128
batchnorm
relu
dense 64
batchnorm
relu
dense 10 softmax
train {
  data ${source}
  optimizer adam lr=0.001
  batch ${batch}
  epochs ${epochs}
  bnstats ema
}`;

const first = compile(spec(32));
if (!first.program) throw new Error(first.diagnostics.map((d) => d.message).join("\n"));
const data = await loadDataset(first.program.train.data);
console.log(`${data.source}: ${data.train.count} training samples, ${epochs} epochs, wasm`);
for (const batch of [32, 128, 512]) {
  const program = compile(spec(batch)).program!;
  const row: string[] = [];
  for (const gradients of ["auto", "autograd"] as const) {
    const net = new Network(program.models[0]!, program.train.seed);
    const h = await fitNetwork(net, program.train, data, { gradients });
    // The first epoch warms up kernels and the heap: report the best later epoch when there is one.
    const rates = h.epochs.map((e) => e.samplesPerSecond);
    const best = Math.max(...(rates.length > 1 ? rates.slice(1) : rates));
    row.push(`${gradients === "auto" ? "hand-written" : "autograd"} ${Math.round(best)}`);
    net.dispose();
  }
  console.log(`batch ${batch}: ${row.join(", ")} samples/s`);
}
