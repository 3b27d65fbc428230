// Parse-phase benchmark: generates a 1,000-statement spec (statements, options, comments, blocks) and prints
// how long parseSource takes on it, cold and warm. Run: npx tsx bench/parse.ts [statements]
import { performance } from "node:perf_hooks";
import { parseSource } from "../src/parse/parse.ts";

export function generateSpec(statements: number): string {
  const lines: string[] = ["# generated for the parse benchmark"];
  const perModel = 50;
  for (let i = 0; i < statements; i++) {
    if (i % perModel === 0) {
      if (i > 0) lines.push("}", "");
      lines.push(`model m${i / perModel} {  # model ${i / perModel}`);
    }
    const kinds = [
      `  dense ${16 + (i % 256)} relu name=fc${i}`,
      `  batchnorm momentum=0.99 epsilon=1e-3 center=true  # keep the defaults`,
      `  conv2d 32 3x3 relu stride=2 padding=same`,
      `  input 28x28x1`,
      `  dropout 0.25; flatten`,
    ];
    lines.push(kinds[i % kinds.length]!);
  }
  lines.push(
    "}",
    "",
    "train {",
    '  data "csv:my files/train.csv" validation=0.1',
    "  optimizer adam lr=0.001",
    "}",
  );
  return lines.join("\n") + "\n";
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 1000);
  const text = generateSpec(count);
  const time = () => {
    const start = performance.now();
    const result = parseSource(text, "bench.nn");
    const ms = performance.now() - start;
    if (result.diagnostics.length > 0)
      throw new Error(`benchmark spec has errors: ${result.diagnostics[0]!.message}`);
    return ms;
  };
  const cold = time();
  const warm = Array.from({ length: 5 }, time).sort((a, b) => a - b)[2]!;
  console.log(
    `parse: ${count} statements, ${text.length} chars: cold ${cold.toFixed(1)} ms, warm (median of 5) ${warm.toFixed(1)} ms`,
  );
}
