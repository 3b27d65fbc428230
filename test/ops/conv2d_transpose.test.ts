// Op conv2d_transpose (Keras Conv2DTranspose): parameter counts and output shapes equal to tfjs-layers' own layer
// (built from nnc's export and directly with its API) for 'same' and 'valid', kernels larger and smaller than the
// stride; predictions of the Layers export equal nnc's; autograd (the compiled step leaves it out) gives the
// same gradients on wasm as on cpu; nnc import, load, ONNX (ConvTranspose, output_padding where the kernel is
// smaller than the stride) and the formatter give it back.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { formatSource } from "../../src/format/index.ts";
import { lowerLoss } from "../../src/lower/loss.ts";
import { Network } from "../../src/lower/network.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { autogradGradients } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { closeness, program, useBackend, values } from "../lower/helpers.ts";
import { assertLoadAgrees, assertOnnxAgrees, errorCode, importedSpec, savedModel } from "./conv-helpers.ts";
import { kerasParity } from "./parity.ts";

const Op = suite("op conv2d_transpose");

const SPECS = [
  "input 5x5x3\nconv2d_transpose 4 3x3 relu stride=2 padding=same\nflatten\ndense 3 softmax",
  "input 4x5x2\nconv2d_transpose 3 3x2 stride=2\nflatten\ndense 3",
  "input 4x4x2\nconv2d_transpose 3 1x1 stride=3 bias=false\nconv2d_transpose 2 2x2 stride=3 padding=same tanh\nflatten\ndense 3",
  "input 6x6x1\nconv2d 4 3x3 stride=2 padding=same relu\nconv2d_transpose 2 4x4 stride=2 padding=same sigmoid\nglobalavgpool\ndense 2",
];

for (const spec of SPECS) {
  Op(`against tfjs-layers: ${spec.split("\n").slice(1, -2).join("; ")}`, async () => {
    const parity = await kerasParity(spec);
    for (const l of parity.layers) {
      assert.is(l.tfjsParams, l.nncParams, `${l.name} (${l.op}): parameters`);
      assert.equal(l.tfjsShape, l.nncShape, `${l.name} (${l.op}): output shape`);
    }
    assert.ok(parity.maxAbs > 1e-3, `predictions are not all ~0 (${parity.maxAbs})`);
    assert.ok(parity.maxDiff < 1e-5, `predictions differ by ${parity.maxDiff}`);
  });
}

Op("parameter count and shape equal tfjs-layers' Conv2DTranspose built with its API", async () => {
  const parity = await kerasParity(SPECS[1]!);
  const ours = parity.layers.find((l) => l.op === "conv2d_transpose")!;
  const layer = tfl.layers.conv2dTranspose({ filters: 3, kernelSize: [3, 2], strides: 2 });
  const out = layer.apply(tfl.input({ shape: [4, 5, 2] })) as tfl.SymbolicTensor;
  assert.is(ours.nncParams, layer.countParams());
  assert.is(ours.nncParams, 3 * 2 * 3 * 2 + 3);
  assert.equal(ours.nncShape, out.shape);
  assert.equal(ours.nncShape, [null, 9, 10, 3]);
});

Op("trained by autograd (not the compiled step), with the same gradients on wasm as on cpu", async () => {
  const source =
    "input 5x5x2; conv2d_transpose 3 3x3 stride=2 padding=same relu; conv2d_transpose 2 2x2 stride=2; flatten; dense 3 softmax";
  const p = program(source);
  const rng = new Random(3);
  const x = Float32Array.from({ length: 8 * 50 }, () => rng.normal());
  const y = Int32Array.from({ length: 8 }, () => rng.int(3));
  const gradients = async (backend: "wasm" | "cpu") => {
    await useBackend(backend);
    const net = new Network(p.models[0]!, 4);
    assert.is(
      manualGradients(net, lowerLoss(net, p.train.loss)),
      undefined,
      "the compiled step leaves it out",
    );
    const fn = autogradGradients(net, lowerLoss(net, p.train.loss));
    const out = tf.tidy(() => {
      const g = fn({ x: tf.tensor(x, [8, 5, 5, 2]), y: tf.tensor1d(y, "int32"), dropoutRng: undefined }, []);
      return Object.fromEntries(Object.entries(g.grads).map(([k, v]) => [k, values(v)]));
    });
    net.dispose();
    return out;
  };
  const cpu = await gradients("cpu");
  const wasm = await gradients("wasm");
  assert.equal(Object.keys(wasm).sort(), Object.keys(cpu).sort());
  assert.ok(
    cpu["conv2d_transpose/kernel"]!.some((v) => Math.abs(v) > 1e-4),
    "gradients are not all ~0",
  );
  for (const k of Object.keys(cpu)) assert.ok(closeness(wasm[k]!, cpu[k]!, 1e-4, 1e-6) <= 1, k);
});

Op("nnc import of the export writes the statement back; load and ONNX predict as nnc", async () => {
  const spec =
    "input 5x4x2\nconv2d_transpose 4 3x3 relu stride=2 padding=same init=he_normal l2=0.001\n" +
    "conv2d_transpose 2 1x2 stride=3 bias=false\nconv2d_transpose 2 3x3\nflatten\ndense 3 softmax";
  const saved = await savedModel(spec);
  const text = await importedSpec(saved.dir);
  assert.match(text, "conv2d_transpose 4 3x3 relu stride=2 padding=same init=he_normal l2=0.001");
  assert.match(text, "conv2d_transpose 2 1x2 stride=3 bias=false");
  await assertLoadAgrees(saved);
  const operators = await assertOnnxAgrees(saved);
  assert.is(operators["ConvTranspose"], 3);
});

Op("the formatter keeps the statement", async () => {
  const text = "model m {\n  input 8x8x2\n  conv2d_transpose 16 3x3 relu stride=2 padding=same\n}\n";
  assert.is(await formatSource(text), text);
  assert.is(await formatSource(text.replace("  conv2d_transpose", "      conv2d_transpose")), text);
});

Op("errors: an unknown option (E201), a rank-2 input (E302)", () => {
  assert.is(errorCode("input 8x8x2\nconv2d_transpose 4 3x3 output_padding=1"), "E201");
  assert.is(errorCode("input 8\nconv2d_transpose 4 3x3"), "E302");
});

Op.run();
