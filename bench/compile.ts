// Front-end benchmark: generates a valid 1,000-layer spec and prints how long parse, build (IR), validate and
// check take on it, and the whole compile(); the budget is well under 100 ms. Run: npx tsx bench/compile.ts [layers]
import { performance } from "node:perf_hooks";
import { buildProgram } from "../src/build/build.ts";
import { checkProgram } from "../src/check/check.ts";
import { compile } from "../src/compile.ts";
import { validateIR } from "../src/ir/validate.ts";
import { parseSource } from "../src/parse/parse.ts";

/** One model of `layers` layers whose shapes all fit: same-padded conv blocks on 28x28x1, then a dense head. */
export function generateModel(layers: number): string {
  const lines = ["# generated for the compile benchmark", "input 28x28x1"];
  const block = ["conv2d 8 3x3 padding=same", "batchnorm momentum=0.99", "relu", "dropout 0.1"];
  for (let i = 0; lines.length - 1 < layers - 2; i++) lines.push(block[i % block.length]!);
  lines.push("globalavgpool", "dense 10 softmax");
  lines.push("", "train {", "  data mnist", "  optimizer adam lr=0.001", "  batch 64", "}");
  return lines.join("\n") + "\n";
}

/** Median of `runs` timings of f, in ms. */
function median(f: () => void, runs = 9): number {
  const times = Array.from({ length: runs }, () => {
    const start = performance.now();
    f();
    return performance.now() - start;
  }).sort((a, b) => a - b);
  return times[runs >> 1]!;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 1000);
  const text = generateModel(count);
  const coldStart = performance.now();
  const result = compile(text, { filename: "bench.nn" });
  const cold = performance.now() - coldStart;
  if (!result.ok) throw new Error(`benchmark spec has errors: ${result.diagnostics[0]!.message}`);
  const layers = result.program!.models[0]!.layers.length;
  const tree = parseSource(text, "bench.nn").tree;
  const program = buildProgram(tree, { filename: "bench.nn" }).program!;
  const parse = median(() => parseSource(text, "bench.nn"));
  const build = median(() => buildProgram(tree, { filename: "bench.nn" }));
  const validate = median(() => validateIR(program));
  const check = median(() => checkProgram(program));
  const total = median(() => compile(text, { filename: "bench.nn" }));
  console.log(
    `compile: ${layers} layers, ${text.length} chars: parse ${parse.toFixed(1)} ms, build ${build.toFixed(1)} ms, ` +
      `validate ${validate.toFixed(1)} ms, check ${check.toFixed(1)} ms; compile() warm ${total.toFixed(1)} ms ` +
      `(median of 9), cold ${cold.toFixed(1)} ms`,
  );
}
