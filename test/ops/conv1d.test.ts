// Op conv1d (Keras Conv1D) through every phase (convSuite, test/ops/conv-helpers.ts): parameter counts and output
// shapes equal to tfjs-layers' own layer (built from nnc's export and directly with its API), predictions of the
// Layers export equal nnc's (dilated and strided included); the compiled step's gradients equal autograd's (wasm
// and cpu; a dilated conv1d's autograd takes conv-grads.ts' dilatedConv2d, whose gradients
// test/ops/conv-grads.test.ts checks against the zero-stuffed undilated convolution), two threads equal one;
// batchnorm folds into its kernel (and W410 names its bias); nnc import, load, ONNX and the formatter give it
// back. Its own: the dilated layer built with tfjs-layers' API, E785's message, W423.
import * as tfl from "@tensorflow/tfjs-layers";
import * as assert from "uvu/assert";
import { convSuite, lintCodes } from "./conv-helpers.ts";
import { kerasParity } from "./parity.ts";
import { diagnosticOf } from "./phases.ts";

const PARITY = [
  "input 20x3\nconv1d 8 5 relu padding=same\nconv1d 4 3\nflatten\ndense 3 softmax",
  "input 21x2\nconv1d 6 4 stride=3 bias=false\nflatten\ndense 3 softmax",
  "input 24x3\nconv1d 5 3 dilation=2 tanh\nconv1d 4 2 dilation=3 padding=same\nbatchnorm\nrelu\nflatten\ndense 3",
  "input 17x1\nconv1d 8 4 stride=2 padding=same\nbatchnorm\nrelu\nconv1d 3 1\nflatten\ndense 2 softmax",
];

const Op = convSuite({
  op: "conv1d",
  parity: PARITY,
  api: {
    spec: 1,
    input: [21, 2],
    layer: () => tfl.layers.conv1d({ filters: 6, kernelSize: 4, strides: 3, useBias: false }),
    // Keras' formula: K * in * FILTERS (+ FILTERS with a bias).
    params: 4 * 2 * 6,
  },
  step: [
    "input 16x2; conv1d 8 3 padding=same; batchnorm; relu; conv1d 4 3 stride=2 relu; flatten; dense 3 softmax",
    "input 19x3; conv1d 5 3 dilation=2 tanh; conv1d 6 2 dilation=3 padding=same sigmoid bias=false; flatten; dense 3 softmax",
    "input 15x1; conv1d 8 4 stride=3 padding=same; conv1d 4 3 dilation=2 padding=same; batchnorm; relu; flatten; dense 3 softmax",
  ],
  threads:
    "input 16x2\nconv1d 8 3 padding=same dilation=2\nbatchnorm momentum=0.5\nrelu\nconv1d 4 3 stride=2\nflatten\ndense 3 softmax name=out",
  fold: {
    spec: "input 12x3\nconv1d 8 3 padding=same dilation=2\nbatchnorm\nrelu\nconv1d 4 3 stride=2 bias=false\nbatchnorm\nflatten\ndense 3",
    folded: ["batch_normalization", "batch_normalization_1"],
    unbiased: ["dilation=2\n", "dilation=2 bias=false\n"],
  },
  roundTrip: {
    spec:
      "input 24x2\nconv1d 6 5 relu stride=2 padding=same init=he_normal l2=0.001\n" +
      "conv1d 4 3 dilation=2 padding=same bias=false\nbatchnorm\nflatten\ndense 3 softmax",
    statements: [
      "conv1d 6 5 relu stride=2 padding=same init=he_normal l2=0.001",
      "conv1d 4 3 padding=same dilation=2 bias=false",
    ],
    // A batchnorm over [batch, steps, channels] exports as Mul and Add on the last axis (src/ops/batchnorm.ts).
    onnx: (operators, folded) =>
      folded
        ? assert.ok(operators["Conv"] === 2 && !operators["Mul"], JSON.stringify(operators))
        : assert.is(operators["Mul"], 1, JSON.stringify(operators)),
  },
  formatted: "model m {\n  input 32x2\n  conv1d 16 5 relu padding=same dilation=2\n}\n",
  errors: [
    ["input 16x2\nconv1d 4 3 stride=2 dilation=2\nflatten\ndense 2", "E785"],
    ["input 16\nconv1d 4 3\nflatten\ndense 2", "E302"],
    ["input 8x8x1\nconv1d 4 3\nflatten\ndense 2", "E302"],
    // Dilated, a 3-tap window spans 9 steps: more than the 8 there are.
    ["input 8x1\nconv1d 4 3 dilation=4\nflatten\ndense 2", "E304"],
    ["input 8x1\nconv1d 4 3 groups=2\nflatten\ndense 2", "E201"],
  ],
});

Op("a dilated Conv1D built with tfjs-layers' API counts and shapes as nnc", async () => {
  const ours = (await kerasParity(PARITY[2]!)).layers.find((l) => l.op === "conv1d")!;
  const layer = tfl.layers.conv1d({ filters: 5, kernelSize: 3, dilationRate: 2, activation: "tanh" });
  const out = layer.apply(tfl.input({ shape: [24, 3] })) as tfl.SymbolicTensor;
  assert.is(ours.nncParams, layer.countParams());
  assert.equal(ours.nncShape, out.shape);
});

Op("E785 and E302 say what to write; a 2-D window is not conv1d's", () => {
  const d = diagnosticOf("input 16x2\nconv1d 4 3 stride=2 dilation=2\nflatten\ndense 2", "E785");
  assert.match(d.message, "stride=2 and dilation=2");
  assert.match(diagnosticOf("input 16\nconv1d 4 3\nflatten\ndense 2", "E302").message, "input 16x1");
  assert.match(
    diagnosticOf("input 8x1\nconv1d 4 3x3\nflatten\ndense 2", "E202").message,
    "integer for KERNEL",
  );
});

Op("W423: a dilation over a one-tap window changes nothing", () => {
  const spec = "input 16x2\nconv1d 4 1 dilation=3\nflatten\ndense 2";
  assert.equal(lintCodes(spec), ["W423"]);
  const d = diagnosticOf(spec, "W423");
  assert.match(d.message, "'conv1d' has dilation=3");
  // The caret is on the option.
  assert.equal(d.span, [spec.indexOf("dilation=3"), spec.indexOf("dilation=3") + "dilation=3".length]);
  assert.equal(lintCodes(spec.replace("conv1d 4 1", "conv1d 4 2")), []);
  assert.equal(lintCodes(spec.replace(" dilation=3", "")), []);
});

Op.run();
