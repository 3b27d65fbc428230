// nnc export --format onnx, verified in a real ONNX runtime (onnxruntime-web's WebAssembly build, in Node): the
// exports of trained models predict what nnc predicts (within 1e-4, the same class) on 1,000 samples fed as the
// data source holds them, for the batch-normalized MLP, the convnet, the residual network and a spec using
// every op, exported with batchnorm folded and as BatchNormalization nodes. (structure.test.ts: what the file
// holds, the CLI, the errors.)
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import * as ort from "onnxruntime-web";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { load } from "../../src/api.ts";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { loadDataset, rowsAsFloat32 } from "../../src/data/index.ts";
import type { Split } from "../../src/data/types.ts";
import type { DataRef } from "../../src/ir/schema.ts";
import { exportOnnx } from "../../src/onnx/index.ts";
import { sizeOf } from "../../src/util/shape.ts";
import { tempDir } from "../helpers.ts";

// One thread: Node has no cross-origin isolation to share memory with, and the tests measure nothing.
ort.env.wasm.numThreads = 1;

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** Trains `spec` for one epoch on a slice of its data into a new folder (wasm: the convnets train fast there). */
async function trainQuick(name: string, spec: string, ...args: string[]): Promise<string> {
  const out = join(tempDir(`onnx-${name}`), "run");
  const r = await nnc("train", spec, "--epochs", "1", "--backend", "wasm", "--out", out, ...args);
  assert.is(r.code, 0, r.stderr);
  return out;
}

/**
 * An IDX folder (bytes, so nnc divides them by 255) of `train` + `test` real digits: the embedded MNIST's
 * values are k / 255, written back as the bytes k.
 */
async function digitBytes(train: number, test: number): Promise<string> {
  const mnist = await loadDataset({ source: "mnist" });
  const dir = tempDir("onnx-idx");
  const write = (set: string, split: Split, from: number, count: number) => {
    const images = Buffer.alloc(16 + count * 784);
    images.writeUInt32BE(0x803, 0);
    images.writeUInt32BE(count, 4);
    images.writeUInt32BE(28, 8);
    images.writeUInt32BE(28, 12);
    const x = rowsAsFloat32(split, from, count, 784);
    for (let i = 0; i < x.length; i++) images[16 + i] = Math.round(x[i]! * 255);
    const labels = Buffer.alloc(8 + count);
    labels.writeUInt32BE(0x801, 0);
    labels.writeUInt32BE(count, 4);
    for (let i = 0; i < count; i++) labels[8 + i] = split.y[from + i]!;
    writeFileSync(join(dir, `${set}-images-idx3-ubyte`), images);
    writeFileSync(join(dir, `${set}-labels-idx1-ubyte`), labels);
  };
  write("train", mnist.train, 0, train);
  write("t10k", mnist.validation, 0, test);
  return dir;
}

interface Agreement {
  worst: number;
  sameClass: number;
  count: number;
  inputScale: number;
}

/**
 * nnc's predictions (the saved model loaded as `nnc predict` loads it, fed x / scale as nnc's data layer makes
 * it) against onnxruntime's on the export of `dir` (fed the samples raw, as the source holds them), on the
 * first `count` samples of `data`'s held-out split.
 */
async function agreement(dir: string, data: DataRef, count: number, bytes?: Uint8Array): Promise<Agreement> {
  const exported = bytes ?? (await exportOnnx(dir, { backend: "wasm" })).bytes;
  const model = await load(dir, { backend: "wasm" });
  try {
    const first = model.model.layers[0]!;
    const shape = first.op === "input" ? first.shape : [];
    const size = sizeOf(shape);
    const split = (await loadDataset(data)).validation;
    assert.ok(split.count >= count, `${split.count} held-out samples`);
    const scaled = rowsAsFloat32(split, 0, count, size);
    const raw = Float32Array.from(split.x.subarray(0, count * size));
    const expected = new Float32Array(count * 10);
    for (let at = 0; at < count; at += 250) {
      const n = Math.min(250, count - at);
      const part = tf.tidy(() =>
        model.predict(tf.tensor(scaled.subarray(at * size, (at + n) * size), [n, ...shape])).dataSync(),
      );
      expected.set(part, at * 10);
    }
    const session = await ort.InferenceSession.create(exported);
    const input = new ort.Tensor("float32", raw, [count, ...shape]);
    const result = await session.run({ [session.inputNames[0]!]: input });
    const got = result[session.outputNames[0]!]!.data as Float32Array;
    assert.is(got.length, expected.length);
    let worst = 0;
    let sameClass = 0;
    const argmax = (a: Float32Array, i: number) => {
      const row = Array.from(a.subarray(i * 10, i * 10 + 10));
      return row.indexOf(Math.max(...row));
    };
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
    for (let i = 0; i < count; i++) if (argmax(got, i) === argmax(expected, i)) sameClass++;
    await session.release();
    return { worst, sameClass, count, inputScale: split.scale ?? 1 };
  } finally {
    model.dispose();
  }
}

function assertAgrees(a: Agreement) {
  assert.ok(a.worst <= 1e-4, `largest difference ${a.worst}`);
  assert.is(a.sameClass, a.count, `the same class for ${a.sameClass} of ${a.count} samples`);
}

const Runtime = suite("ONNX export in onnxruntime");
Runtime("the batch-normalized MLP (specs/mnist-bn.nn): equal predictions on 1,000 samples", async () => {
  const dir = await trainQuick("mlp", repo("specs/mnist-bn.nn"), "--limit", "1000");
  const a = await agreement(dir, { source: "mnist" }, 1000);
  assertAgrees(a);
  const { info } = await exportOnnx(dir, { backend: "wasm" });
  assert.equal(info.folded, ["batch_normalization", "batch_normalization_1"]);
  assert.equal(info.input.shape, ["batch", 28, 28]);
  assert.equal(info.output.shape, ["batch", 10]);
});

Runtime("the convnet (specs/convnet-bn.nn): equal predictions on 1,000 samples", async () => {
  const dir = await trainQuick("convnet", repo("specs/convnet-bn.nn"), "--limit", "600");
  assertAgrees(await agreement(dir, { source: "mnist" }, 1000));
});

Runtime(
  "the residual network (specs/resnet.nn) on image bytes: equal predictions on raw pixels",
  async () => {
    // 300 samples: the test is about equal predictions, not accuracy.
    const data = `idx:${await digitBytes(300, 1000)}`;
    const dir = await trainQuick("resnet", repo("specs/resnet.nn"), "--data", data);
    const a = await agreement(dir, { source: data }, 1000);
    assert.is(a.inputScale, 255);
    assertAgrees(a);
  },
);

const allops = `input 28x28x1
conv2d 8 3x3 padding=same
batchnorm
relu
avgpool 3x3 stride=2 padding=same name=p
conv2d 8 3x3 padding=same elu
batchnorm
add p
conv2d 4 1x1 tanh
concat p
maxpool 3x3 stride=2 padding=same name=m
layernorm
conv2d 12 3x3 padding=same softmax
concat m axis=1
flatten
dropout 0.1
dense 16 gelu bias=false
batchnorm scale=false
dense 12 sigmoid
layernorm center=false
dense 10 softmax

train {
  data mnist
  optimizer adam lr=0.003
  batch 32
  epochs 1
}
`;

/** A spec with every op and activation, the layouts they need, and batchnorm that cannot fold. */
const EVERY_OP = allops;

Runtime("every op and activation: equal predictions, folded and as BatchNormalization nodes", async () => {
  const spec = join(tempDir("onnx-every-op"), "every-op.nn");
  writeFileSync(spec, EVERY_OP);
  const dir = await trainQuick("every-op", spec, "--limit", "300");
  const folded = await exportOnnx(dir, { backend: "wasm" });
  const kept = await exportOnnx(dir, { backend: "wasm", foldBatchNorm: false });
  assert.equal(folded.info.folded, ["batch_normalization"]);
  assert.is(kept.info.operators["BatchNormalization"], 3);
  assert.is(folded.info.operators["BatchNormalization"], 2);
  for (const op of ["AveragePool", "MaxPool", "Concat", "LayerNormalization", "Erf", "Elu", "Tanh", "MatMul"])
    assert.ok(folded.info.operators[op], op);
  assertAgrees(await agreement(dir, { source: "mnist" }, 1000, folded.bytes));
  assertAgrees(await agreement(dir, { source: "mnist" }, 1000, kept.bytes));
});

Runtime.run();
