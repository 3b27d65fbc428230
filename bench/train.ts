// Training benchmark: samples/s of the notebook's BN MLP on the wasm backend at batch 32/128/512, through
// nnc's compiled step and through tfjs autograd (the oracle), side by side. Training steps only.
// Run: npx tsx bench/train.ts [source=mnist] [epochs=2]
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { loadDataset } from "../src/data/index.ts";
import { withTrainOverrides } from "../src/ir/train-overrides.ts";
import { Network } from "../src/lower/network.ts";
import { fitNetwork } from "../src/train/fit.ts";
import { benchProgram } from "./peers/models.ts";

const source = process.argv[2] ?? "mnist";
const epochs = Number(process.argv[3] ?? 2);
if (!(await tf.setBackend("wasm")) || tf.getBackend() !== "wasm")
  throw new Error("the wasm backend failed to start");

const data = await loadDataset(benchProgram("bn-mlp", source, 32).train.data);
console.log(`${data.source}: ${data.train.count} training samples, ${epochs} epochs, wasm`);
for (const batch of [32, 128, 512]) {
  const program = benchProgram("bn-mlp", source, batch);
  const train = withTrainOverrides(program.train, { epochs });
  const row: string[] = [];
  for (const gradients of ["auto", "autograd"] as const) {
    const net = new Network(program.models[0]!, train.seed);
    const h = await fitNetwork(net, train, data, { gradients });
    // The first epoch warms up kernels and the heap: report the best later epoch when there is one.
    const rates = h.epochs.map((e) => e.samplesPerSecond);
    const best = Math.max(...(rates.length > 1 ? rates.slice(1) : rates));
    row.push(`${gradients === "auto" ? "compiled" : "autograd"} ${Math.round(best)}`);
    net.dispose();
  }
  console.log(`batch ${batch}: ${row.join(", ")} samples/s`);
}
