// Benchmark models: the models `npm run bench` compares (the notebook's BN MLP, the same MLP without batch
// norm, specs/convnet-bn.nn, the residual network of specs/resnet.nn) as .nn source for a data source and batch
// size, compiled to checked IR.
// Every peer (nnc, tfjs-layers, PyTorch) builds its model from the same checked IR, so the layers agree.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compile } from "../../src/compile.ts";
import type { Program } from "../../src/ir/schema.ts";

export const MODELS = ["bn-mlp", "mlp", "convnet-bn", "resnet"] as const;
export type BenchModel = (typeof MODELS)[number];

const MLP_BN = `input 28x28
flatten
dense 128
batchnorm
relu
dense 64
batchnorm
relu
dense 10 softmax`;

const MLP = `input 28x28
flatten
dense 128 relu
dense 64 relu
dense 10 softmax`;

/** A spec's models (and blocks) without its train block and experiments: the bench supplies its own. */
function specLayers(file: string): string {
  const text = readFileSync(fileURLToPath(new URL(`../../specs/${file}`, import.meta.url)), "utf8");
  return text.slice(0, text.indexOf("train {")).trim();
}

/** The checked program of a bench model: Adam lr 0.001 (the notebook's), moving-average BN statistics. */
export function benchProgram(model: BenchModel, source: string, batch: number): Program {
  const layers =
    model === "bn-mlp"
      ? MLP_BN
      : model === "mlp"
        ? MLP
        : specLayers(model === "resnet" ? "resnet.nn" : "convnet-bn.nn");
  const text = `${layers}

train {
  data ${source}
  optimizer adam lr=0.001
  batch ${batch}
  epochs 1
  bnstats ema
}`;
  const r = compile(text);
  if (!r.ok || !r.program) throw new Error(r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  return r.program;
}
