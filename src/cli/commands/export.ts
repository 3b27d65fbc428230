// nnc export DIR --format onnx [-o FILE]: a saved model (a train --out folder) as an ONNX model (src/onnx/).
import { refuseUnfinishedRun } from "../../save/run-folder.ts";
import { renderDiagnostic } from "../../diagnostics/index.ts";
import { exportOnnx, onnxOutputPath, writeOnnx } from "../../onnx/index.ts";
import type { OnnxModelInfo } from "../../onnx/index.ts";
import type { BackendChoice } from "../../runtime/types.ts";
import { EXIT } from "../exit.ts";
import type { CliIO } from "../io.ts";

export interface ExportOptions {
  format: "onnx";
  output?: string;
  foldBatchnorm: boolean;
  backend: BackendChoice;
  json?: boolean;
}

const dims = (shape: Array<number | string>) => `[${shape.join(", ")}]`;
const kilobytes = (n: number) => `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;

function describe(file: string, bytes: number, info: OnnxModelInfo): string {
  const scale =
    info.inputScale === 1 ? "" : `; feed raw values: the model divides them by ${info.inputScale}`;
  const kept = info.operators["BatchNormalization"] ?? 0;
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  const batchnorm = [
    ...(info.folded.length > 0
      ? [`${plural(info.folded.length, "batchnorm layer")} folded into the layer before`]
      : []),
    ...(kept > 0 ? [`${plural(kept, "BatchNormalization node")} (population statistics)`] : []),
  ];
  const operators = Object.entries(info.operators)
    .map(([op, n]) => (n === 1 ? op : `${op} x${n}`))
    .join(", ");
  return (
    `wrote ${file} (ONNX opset ${info.opset}, IR version ${info.irVersion}, ${kilobytes(bytes)})\n` +
    `  input  '${info.input.name}' float32 ${dims(info.input.shape)}${info.input.layout === "NHWC" ? " NHWC" : ""}${scale}\n` +
    `  output '${info.output.name}' float32 ${dims(info.output.shape)} (${info.output.activation})\n` +
    (batchnorm.length > 0 ? `  ${batchnorm.join("; ")}\n` : "") +
    `  nodes: ${operators}\n`
  );
}

export async function exportCommand(io: CliIO, dir: string, opts: ExportOptions): Promise<number> {
  refuseUnfinishedRun(dir); // a checkpoint without a model: E603 saying how to finish it
  const file = onnxOutputPath(dir, opts.output);
  const { bytes, info } = await exportOnnx(dir, {
    foldBatchNorm: opts.foldBatchnorm,
    backend: opts.backend,
    onWarning: (d) => io.err(renderDiagnostic(d, undefined, { color: io.color }) + "\n"),
  });
  writeOnnx(file, bytes);
  if (opts.json) io.out(JSON.stringify({ file, bytes: bytes.byteLength, ...info }) + "\n");
  else io.out(describe(file, bytes.byteLength, info));
  return EXIT.ok;
}
