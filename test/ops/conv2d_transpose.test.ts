// Op conv2d_transpose (Keras Conv2DTranspose): parameter counts and output shapes equal to tfjs-layers' own layer
// (built from nnc's export and directly with its API) for 'same' and 'valid', kernels larger and smaller than the
// stride; predictions of the Layers export equal nnc's; autograd (the compiled step leaves it out) gives the
// same gradients on wasm as on cpu; nnc import, load, ONNX (ConvTranspose, output_padding where the kernel is
// smaller than the stride) and the formatter give it back.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import * as assert from "uvu/assert";
import { lowerLoss } from "../../src/lower/loss.ts";
import { Network } from "../../src/lower/network.ts";
import { manualGradients } from "../../src/train/manual-backward.ts";
import { autogradGradients } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { closeness, program, useBackend, values } from "../lower/helpers.ts";
import { convSuite } from "./conv-helpers.ts";
import { kerasParity } from "./parity.ts";

const Op = convSuite({
  op: "conv2d_transpose",
  parity: [
    "input 5x5x3\nconv2d_transpose 4 3x3 relu stride=2 padding=same\nflatten\ndense 3 softmax",
    "input 4x5x2\nconv2d_transpose 3 3x2 stride=2\nflatten\ndense 3",
    "input 4x4x2\nconv2d_transpose 3 1x1 stride=3 bias=false\nconv2d_transpose 2 2x2 stride=3 padding=same tanh\nflatten\ndense 3",
    "input 6x6x1\nconv2d 4 3x3 stride=2 padding=same relu\nconv2d_transpose 2 4x4 stride=2 padding=same sigmoid\nglobalavgpool\ndense 2",
  ],
  api: {
    spec: 1,
    input: [4, 5, 2],
    layer: () => tfl.layers.conv2dTranspose({ filters: 3, kernelSize: [3, 2], strides: 2 }),
    params: 3 * 2 * 3 * 2 + 3,
  },
  roundTrip: {
    spec:
      "input 5x4x2\nconv2d_transpose 4 3x3 relu stride=2 padding=same init=he_normal l2=0.001\n" +
      "conv2d_transpose 2 1x2 stride=3 bias=false\nconv2d_transpose 2 3x3\nflatten\ndense 3 softmax",
    statements: [
      "conv2d_transpose 4 3x3 relu stride=2 padding=same init=he_normal l2=0.001",
      "conv2d_transpose 2 1x2 stride=3 bias=false",
    ],
    onnx: (operators) => assert.is(operators["ConvTranspose"], 3),
  },
  formatted: "model m {\n  input 8x8x2\n  conv2d_transpose 16 3x3 relu stride=2 padding=same\n}\n",
  errors: [
    ["input 8x8x2\nconv2d_transpose 4 3x3 output_padding=1", "E201"],
    ["input 8\nconv2d_transpose 4 3x3", "E302"],
  ],
});

Op("the output size is tfjs-layers' deconvLength", async () => {
  const parity = await kerasParity("input 4x5x2\nconv2d_transpose 3 3x2 stride=2\nflatten\ndense 3");
  assert.equal(parity.layers.find((l) => l.op === "conv2d_transpose")!.nncShape, [null, 9, 10, 3]);
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

Op.run();
