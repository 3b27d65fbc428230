// Op conv2d's dilation= (Keras Conv2D dilation_rate) through every phase: parameter counts and output shapes equal
// to tfjs-layers' own layer (from nnc's export and built with its API), predictions of the Layers export equal
// nnc's; the compiled step (nnc's dilated gradients, src/kernels/conv-grads.ts) equal to autograd (which runs
// dilatedConv2d, tfjs' own Conv2D gradient refusing dilation > 1) on wasm and cpu, two threads equal to one;
// batchnorm folds into it; nnc import, load, ONNX (Conv dilations) and the formatter give it back; E795 for a
// stride with a dilation. The dilated gradients themselves against a zero-stuffed kernel: conv-grads.test.ts.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { spanText } from "../build/helpers.ts";
import { Network } from "../../src/lower/network.ts";
import { lowerLoss } from "../../src/lower/loss.ts";
import { autogradGradients } from "../../src/train/step.ts";
import { Random } from "../../src/util/random.ts";
import { program, useBackend, values } from "../lower/helpers.ts";
import { convSuite, lintCodes } from "./conv-helpers.ts";

const Op = convSuite({
  op: "conv2d",
  parity: [
    "input 9x9x2\nconv2d 4 3x3 relu padding=same dilation=2\nflatten\ndense 3 softmax",
    "input 11x10x3\nconv2d 5 3x2 dilation=2x3 bias=false\nflatten\ndense 3 softmax",
    "input 10x10x2\nconv2d 4 3x3 dilation=3 padding=same\nbatchnorm\nrelu\nconv2d 3 2x2 dilation=2 tanh\nglobalavgpool\ndense 3",
  ],
  api: {
    spec: 1,
    input: [11, 10, 3],
    layer: () => tfl.layers.conv2d({ filters: 5, kernelSize: [3, 2], dilationRate: [2, 3], useBias: false }),
    params: 3 * 2 * 3 * 5,
  },
  step: [
    "input 8x8x2; conv2d 8 3x3 dilation=2 padding=same; batchnorm; relu; conv2d 4 3x3 dilation=2 relu; flatten; dense 3 softmax",
    "input 9x7x1; conv2d 3 2x3 dilation=3x2 tanh; conv2d 5 3x3 dilation=2 padding=same sigmoid bias=false; flatten; dense 3 softmax",
  ],
  threads:
    "input 8x8x2\nconv2d 8 3x3 dilation=2 padding=same\nbatchnorm momentum=0.5\nrelu\nglobalavgpool\ndense 3 softmax name=out",
  fold: {
    // Small sums: folding changes float rounding (~4e-6 on outputs of ~10 with 3 channels x 6 filters), and the
    // helper's tolerance is 1e-5 relative + 1e-6.
    spec: "input 8x8x2\nconv2d 4 3x3 dilation=2 padding=same\nbatchnorm\nrelu\nconv2d 3 2x2 dilation=2 bias=false\nbatchnorm\nflatten\ndense 3",
    folded: ["batch_normalization", "batch_normalization_1"],
    unbiased: ["padding=same\n", "padding=same bias=false\n"],
  },
  roundTrip: {
    spec:
      "input 10x9x2\nconv2d 4 3x3 relu padding=same dilation=2 init=he_normal l2=0.001\n" +
      "conv2d 3 2x2 dilation=3x2 bias=false\nbatchnorm\nflatten\ndense 3 softmax",
    statements: [
      "conv2d 4 3x3 relu padding=same dilation=2 init=he_normal l2=0.001",
      "conv2d 3 2x2 dilation=3x2 bias=false",
    ],
    onnx: (operators, folded) =>
      folded
        ? assert.ok(operators["Conv"]! >= 2 && !operators["BatchNormalization"], JSON.stringify(operators))
        : assert.is(operators["BatchNormalization"], 1),
  },
  formatted: "model m {\n  input 8x8x2\n  conv2d 16 3x3 relu padding=same dilation=2\n}\n",
  errors: [
    ["input 8x8x2\nconv2d 4 3x3 stride=2 dilation=2\nflatten\ndense 2", "E795"],
    ["input 8x8x2\nconv2d 4 3x3 dilation=0\nflatten\ndense 2", "E206"],
    ["input 6x6x2\nconv2d 4 3x3 dilation=3\nflatten\ndense 2", "E304"],
  ],
});

Op("W423: a dilation only along one-tap axes changes nothing (1x1, or 1x3 dilated 2x1)", () => {
  const spec = (conv: string) => `input 9x9x2\n${conv}\nflatten\ndense 2`;
  assert.equal(lintCodes(spec("conv2d 4 1x1 dilation=2")), ["W423"]);
  assert.equal(lintCodes(spec("conv2d 4 1x3 dilation=2x1")), ["W423"]);
  // A dilation along a wider axis does something: no warning, whatever the other axis is.
  assert.equal(lintCodes(spec("conv2d 4 1x3 dilation=2")), []);
  assert.equal(lintCodes(spec("conv2d 4 3x3 dilation=2")), []);
  assert.equal(lintCodes(spec("conv2d 4 1x1")), []);
});

Op("E795 points at dilation= and names both values", () => {
  const text = "input 8x8x2\nconv2d 4 3x3 stride=2 dilation=2x1\nflatten\ndense 2";
  const d = compile(text).diagnostics.find((x) => x.code === "E795")!;
  assert.match(d.message, "stride=2 with dilation=2x1");
  assert.is(spanText(text, d), "dilation=2x1");
});

Op(
  "dilation=1 is the undilated convolution: the IR holds no dilation, Keras' dilation_rate is [1, 1]",
  () => {
    const layer = program("input 8x8x2\nconv2d 4 3x3 dilation=1\nflatten\ndense 2").models[0]!.layers[1]!;
    assert.not.ok("dilation" in layer);
  },
);

Op(
  "autograd trains a dilated conv2d (tfjs' own Conv2D gradient would throw): gradients as on cpu",
  async () => {
    const source = "input 7x7x2; conv2d 4 3x3 dilation=2 relu; flatten; dense 3 softmax";
    const p = program(source);
    const rng = new Random(3);
    const x = Float32Array.from({ length: 6 * 98 }, () => rng.normal());
    const y = Int32Array.from({ length: 6 }, () => rng.int(3));
    const gradients = async (backend: "wasm" | "cpu") => {
      await useBackend(backend);
      const net = new Network(p.models[0]!, 4);
      const fn = autogradGradients(net, lowerLoss(net, p.train.loss));
      const out = tf.tidy(() => {
        const g = fn(
          { x: tf.tensor(x, [6, 7, 7, 2]), y: tf.tensor1d(y, "int32"), dropoutRng: undefined },
          [],
        );
        return values(g.grads["conv2d/kernel"]!);
      });
      net.dispose();
      return out;
    };
    const cpu = await gradients("cpu");
    const wasm = await gradients("wasm");
    assert.ok(
      cpu.some((v) => Math.abs(v) > 1e-4),
      "gradients are not all ~0",
    );
    assert.ok(wasm.every((v, i) => Math.abs(v - cpu[i]!) < 1e-4 + 1e-4 * Math.abs(cpu[i]!)));
  },
);

Op.run();
