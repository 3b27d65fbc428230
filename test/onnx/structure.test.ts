// What nnc's ONNX export writes, read back through the same schema (onnx.proto3): opset and IR version, the
// NHWC input with its dynamic batch, the Div by the input scale, the transposes to NCHW and back (each made
// once), the OIHW kernels and TensorFlow's 'same' pads; every op has an ONNX rule; the export is
// deterministic; the CLI and the API; and the errors (E760-E762, E603).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile, exportOnnx as apiExportOnnx } from "../../src/api.ts";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";
import {
  buildOnnxGraph,
  decodeModel,
  exportOnnx,
  ONNX_OPSET,
  type ModelProto,
} from "../../src/onnx/index.ts";
import { OPS } from "../../src/ops/index.ts";
import { onnxPads } from "../../src/ops/onnx.ts";
import type { WeightData } from "../../src/runtime/types.ts";
import { failsWith, tempDir } from "../helpers.ts";

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const CONVNET = `input 6x6x1
conv2d 4 3x3 stride=2 padding=same bias=false
batchnorm
relu
maxpool 2x2 padding=same
flatten
dense 3 softmax
`;

/** A model of `source` with its initial weights, saved to a new folder with input scale `inputScale`. */
async function saved(source: string, inputScale = 1): Promise<string> {
  const model = await compile(source, { filename: "m.nn" }).build({ backend: "cpu" });
  const dir = join(tempDir("onnx-structure"), "model");
  await model.save(dir, { inputScale });
  model.dispose();
  return dir;
}

const nodeOf = (model: ModelProto, opType: string) => model.graph.node.filter((n) => n.op_type === opType);
const floats = (raw: Uint8Array) =>
  Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));

const Structure = suite("ONNX export: what the file holds");

Structure("every op of the registry has an ONNX rule", () => {
  const missing = OPS.filter((op) => typeof op.onnx !== "function").map((op) => op.op);
  assert.equal(missing, []);
});

Structure("opset 17, IR 8, NHWC input with a batch axis, Div by 255, transposes each made once", async () => {
  const dir = await saved(CONVNET, 255);
  const { bytes, info } = await exportOnnx(dir, { backend: "cpu" });
  const model = decodeModel(bytes);
  assert.is(model.ir_version, 8);
  assert.equal(model.opset_import, [{ version: ONNX_OPSET }]); // the default domain "" is not written
  assert.is(model.producer_name, "nnc");
  const input = model.graph.input[0]!;
  assert.is(input.name, "input_layer");
  assert.equal(input.type.tensor_type.shape.dim, [
    { dim_param: "batch" },
    { dim_value: 6 },
    { dim_value: 6 },
    { dim_value: 1 },
  ]);
  assert.equal(model.graph.output[0]!.name, "dense");
  assert.equal(info.input, { name: "input_layer", shape: ["batch", 6, 6, 1], layout: "NHWC" });
  assert.equal(info.output, { name: "dense", shape: ["batch", 3], activation: "softmax" });
  assert.equal(
    model.graph.node.map((n) => n.op_type),
    ["Div", "Transpose", "Conv", "Relu", "MaxPool", "Transpose", "Flatten", "Gemm", "Softmax"],
  );
  const [div] = nodeOf(model, "Div");
  const divisor = model.graph.initializer.find((t) => t.name === div!.input[1]);
  assert.equal(divisor?.dims ?? [], []);
  assert.equal(floats(divisor!.raw_data), [255]);
  const perms = nodeOf(model, "Transpose").map((n) => n.attribute![0]!.ints);
  assert.equal(perms, [
    [0, 3, 1, 2],
    [0, 2, 3, 1],
  ]);
  assert.equal(model.metadata_props, [
    { key: "nnc.input_layout", value: "NHWC" },
    { key: "nnc.input_scale", value: "255" },
    { key: "nnc.folded_batchnorm", value: "batch_normalization" },
  ]);
});

Structure("conv kernels are OIHW; 'same' pads as TensorFlow's", async () => {
  const model = await compile("input 5x5x2\nconv2d 3 3x2 padding=same\nflatten\ndense 2\n").build({
    backend: "cpu",
  });
  const w = model.getWeights();
  const hwio = {
    shape: [...w["conv2d/kernel"]!.shape],
    data: Float32Array.from(w["conv2d/kernel"]!.dataSync()),
  };
  const weights: Record<string, WeightData> = Object.fromEntries(
    Object.entries(w).map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]),
  );
  const { model: proto } = buildOnnxGraph(model.program, weights, { producerVersion: "test" });
  model.dispose();
  const conv = nodeOf(proto, "Conv")[0]!;
  const kernel = proto.graph.initializer.find((t) => t.name === conv.input[1])!;
  assert.equal(kernel.dims, [3, 2, 3, 2]); // [out, in, height, width]
  const oihw = floats(kernel.raw_data);
  const [kh, kw, ci, co] = hwio.shape as [number, number, number, number];
  for (let h = 0; h < kh; h++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++)
          assert.is(oihw[((o * ci + i) * kh + h) * kw + x], hwio.data[((h * kw + x) * ci + i) * co + o]);
  const attributes = Object.fromEntries(conv.attribute!.map((a) => [a.name, a.ints ?? a.i]));
  // 5 rows, window 3: 2 padded, 1 each side; 5 columns, window 2: 1 padded, after (TensorFlow's odd one).
  assert.equal(attributes["pads"], [1, 0, 1, 1]);
  assert.equal(attributes["strides"], [1, 1]);
  assert.equal(attributes["kernel_shape"], [3, 2]);
});

Structure("onnxPads: TensorFlow's SAME (the odd pixel after) and VALID", () => {
  assert.equal(onnxPads([28, 28], [3, 3], [2, 2], "same"), [0, 0, 1, 1]); // 28 -> 14: one row at the bottom
  assert.equal(onnxPads([7, 7], [3, 3], [2, 2], "same"), [1, 1, 1, 1]); // 7 -> 4: two rows, one each side
  assert.equal(onnxPads([28, 28], [2, 2], [2, 2], "same"), [0, 0, 0, 0]);
  assert.equal(onnxPads([7, 5], [2, 2], [2, 2], "same"), [0, 0, 1, 1]);
  assert.equal(onnxPads([28, 28], [3, 3], [1, 1], "valid"), [0, 0, 0, 0]);
});

Structure("the same folder exports to the same bytes", async () => {
  const dir = await saved(CONVNET);
  const a = await exportOnnx(dir, { backend: "cpu" });
  const b = await exportOnnx(dir, { backend: "cpu" });
  assert.equal(Buffer.compare(Buffer.from(a.bytes), Buffer.from(b.bytes)), 0);
  assert.equal(a.info.inputScale, 1);
  assert.is(nodeOf(decodeModel(a.bytes), "Div").length, 0, "no Div at scale 1");
});

Structure("E760: an op without an ONNX rule is named, with its layer and Keras class", async () => {
  const model = await compile("input 4\ndense 3\nlayernorm\ndense 2 softmax\n").build({ backend: "cpu" });
  const weights = Object.fromEntries(
    Object.entries(model.getWeights()).map(([k, t]) => [
      k,
      { shape: [...t.shape], data: Float32Array.from(t.dataSync()) },
    ]),
  );
  const program = model.program;
  model.dispose();
  const d = await failsWith("E760", () =>
    buildOnnxGraph(program, weights, {
      producerVersion: "test",
      ruleOf: (node) =>
        node.op === "layernorm" ? undefined : (OPS.find((o) => o.op === node.op)!.onnx as never),
    }),
  );
  assert.match(
    d.message,
    /layer 'layer_normalization' \(layernorm, Keras LayerNormalization\) has no ONNX form/,
  );
});

Structure("E761: past protobuf's 2 GiB (the limit lowered for the test)", async () => {
  const model = await compile("input 4\ndense 3 softmax\n").build({ backend: "cpu" });
  const weights = Object.fromEntries(
    Object.entries(model.getWeights()).map(([k, t]) => [
      k,
      { shape: [...t.shape], data: Float32Array.from(t.dataSync()) },
    ]),
  );
  const program = model.program;
  model.dispose();
  // 4 x 3 kernel + 3 bias floats: 60 bytes.
  buildOnnxGraph(program, weights, { producerVersion: "test", maxBytes: 60 });
  const d = await failsWith("E761", () =>
    buildOnnxGraph(program, weights, { producerVersion: "test", maxBytes: 59 }),
  );
  assert.match(d.message, /more than the 2 GiB one \.onnx file/);
});

/** Debian's python3-onnx (ONNX 1.12, the release of opset 17), when installed: ONNX's own checker. */
function onnxChecker(): string | undefined {
  for (const python of ["/usr/bin/python3", "python3"]) {
    const probe = spawnSync(python, ["-c", "import onnx"], { encoding: "utf8" });
    if (probe.status === 0) return python;
  }
  return undefined;
}

Structure(
  "onnx.checker.check_model(full_check=True) accepts the exports (optional: python3-onnx)",
  async () => {
    const python = onnxChecker();
    if (!python) {
      console.log("  skipped: ONNX's checker needs Python's onnx (apt-get install python3-onnx)");
      return;
    }
    const every = `input 8x8x1
conv2d 4 3x3 padding=same bias=false
batchnorm
relu
avgpool 3x3 stride=2 padding=same name=p
conv2d 4 3x3 padding=same elu
batchnorm
add p
concat p axis=1
layernorm
conv2d 3 3x3 softmax
flatten
dropout 0.1
dense 8 gelu bias=false
batchnorm
dense 6 tanh
layernorm center=false
dense 3 sigmoid
`;
    const dir = await saved(every, 255);
    const files: string[] = [];
    for (const fold of [true, false]) {
      const file = join(tempDir("onnx-check"), "m.onnx");
      writeFileSync(file, (await exportOnnx(dir, { backend: "cpu", foldBatchNorm: fold })).bytes);
      files.push(file);
    }
    const script =
      "import onnx, sys\n" +
      "for f in sys.argv[1:]:\n" +
      "    onnx.checker.check_model(onnx.load(f), full_check=True)\n" +
      "    print('ok', f)\n";
    const r = spawnSync(python, ["-c", script, ...files], { encoding: "utf8" });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim().split("\n").length, 2);
  },
);

const Cli = suite("nnc export");

Cli("writes DIR/model.onnx and says what it holds; -o a folder; --json", async () => {
  const dir = await saved(CONVNET, 255);
  const r = await nnc("export", dir, "--backend", "cpu");
  assert.is(r.code, 0, r.stderr);
  const file = join(dir, "model.onnx");
  assert.ok(existsSync(file));
  assert.match(r.stdout, `wrote ${file} (ONNX opset 17, IR version 8,`);
  assert.match(
    r.stdout,
    "input  'input_layer' float32 [batch, 6, 6, 1] NHWC; feed raw values: the model divides them by 255",
  );
  assert.match(r.stdout, "output 'dense' float32 [batch, 3] (softmax)");
  assert.match(r.stdout, "1 batchnorm layer folded into the layer before");
  assert.is(decodeModel(readFileSync(file)).graph.name, "m");

  const folder = join(tempDir("onnx-out"), "exports");
  mkdirSync(folder);
  const j = await nnc("export", dir, "-o", folder, "--no-fold-batchnorm", "--json", "--backend", "cpu");
  assert.is(j.code, 0, j.stderr);
  const report = JSON.parse(j.stdout);
  assert.is(report.file, join(folder, "model.onnx"));
  assert.is(report.bytes, readFileSync(report.file).byteLength);
  assert.equal(report.folded, []);
  assert.is(report.operators.BatchNormalization, 1);
});

Cli(
  "refuses to write over the model folder's own files (E762), a folder that is no model (E603), --format",
  async () => {
    const dir = await saved(CONVNET);
    const other = join(tempDir("onnx-other"), "manifest.json");
    writeFileSync(other, "{}");
    const targets = [
      join(dir, "model.json"),
      join(dir, "ir.json"),
      join(dir, "inference", "weights.bin"),
      join(dir, "checkpoint.ckpt"),
      other, // an existing file of that name anywhere
    ];
    for (const target of targets) {
      const r = await nnc("export", dir, "-o", target, "--backend", "cpu");
      assert.is(r.code, 1);
      assert.match(r.stderr, "error[E762]: cannot write the ONNX model to");
      assert.match(r.stderr, "is a file of nnc's model folders; name a .onnx file");
    }
    assert.is(readFileSync(other, "utf8"), "{}");
    // Exporting inference/: the run folder above it is protected too (history.json is not there yet).
    const up = await nnc(
      "export",
      join(dir, "inference"),
      "-o",
      join(dir, "history.json"),
      "--backend",
      "cpu",
    );
    assert.is(up.code, 1);
    assert.match(up.stderr, "error[E762]");
    const empty = tempDir("onnx-empty");
    const r = await nnc("export", empty, "--backend", "cpu");
    assert.is(r.code, 1);
    assert.match(r.stderr, "error[E603]");
    const f = await nnc("export", dir, "--format", "keras");
    assert.is(f.code, 2);
    assert.match(f.stderr, /argument 'keras' is invalid/);
  },
);

Cli("the API: exportOnnx(dir, { output }) gives the bytes it writes", async () => {
  const dir = await saved(CONVNET, 255);
  const file = join(tempDir("onnx-api"), "convnet.onnx");
  const result = await apiExportOnnx(dir, { output: file, backend: "cpu" });
  assert.is(result.file, file);
  assert.equal(Buffer.compare(readFileSync(file), Buffer.from(result.bytes)), 0);
  assert.is(result.info.inputScale, 255);
  await failsWith("E603", apiExportOnnx(join(dir, "nothing-here")));
});

Structure.run();
Cli.run();
