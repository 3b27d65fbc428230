// Op separable_conv2d (Keras SeparableConv2D) through every phase: parameter counts and output shapes equal to
// tfjs-layers' own layer (built from nnc's export and directly with its API), predictions of the Layers export
// equal nnc's; the compiled step's closed-form gradients equal autograd's (wasm and cpu), two threads equal one;
// batchnorm folds into its pointwise kernel (and W410 names its bias); nnc import, load, ONNX and the formatter
// give it back.
import * as tfl from "@tensorflow/tfjs-layers";
import * as assert from "uvu/assert";
import { convSuite, errorCode, importedSpec, savedModel } from "./conv-helpers.ts";

const Op = convSuite({
  op: "separable_conv2d",
  parity: [
    "input 9x9x3\nseparable_conv2d 8 3x3 relu padding=same\nglobalavgpool\ndense 3 softmax",
    "input 9x8x2\nseparable_conv2d 5 3x2 depth_multiplier=3 stride=2 bias=false\nflatten\ndense 3 softmax",
    "input 8x8x4\nseparable_conv2d 6 3x3 stride=2 padding=same\nbatchnorm\nrelu\nseparable_conv2d 4 1x1 depth_multiplier=2 tanh\nflatten\ndense 3",
  ],
  api: {
    spec: 1,
    input: [9, 8, 2],
    layer: () =>
      tfl.layers.separableConv2d({
        filters: 5,
        kernelSize: [3, 2],
        depthMultiplier: 3,
        strides: 2,
        useBias: false,
      }),
    params: 3 * 2 * 2 * 3 + 2 * 3 * 5,
  },
  step: [
    "input 6x6x2; separable_conv2d 8 3x3 depth_multiplier=2 padding=same; batchnorm; relu; separable_conv2d 4 3x3 stride=2 relu; flatten; dense 3 softmax",
    "input 7x7x3; separable_conv2d 5 3x2 stride=2 padding=same tanh; separable_conv2d 6 2x2 depth_multiplier=2 sigmoid bias=false; flatten; dense 3 softmax",
  ],
  threads:
    "input 6x6x2\nseparable_conv2d 8 3x3 padding=same\nbatchnorm momentum=0.5\nrelu\nglobalavgpool\ndense 3 softmax name=out",
  fold: {
    spec: "input 6x6x3\nseparable_conv2d 8 3x3 depth_multiplier=2 padding=same\nbatchnorm\nrelu\nseparable_conv2d 4 3x3 bias=false\nbatchnorm\nflatten\ndense 3",
    folded: ["batch_normalization", "batch_normalization_1"],
    unbiased: ["padding=same\n", "padding=same bias=false\n"],
  },
  roundTrip: {
    spec:
      "input 8x8x2\nseparable_conv2d 6 3x3 relu depth_multiplier=2 stride=2 padding=same init=he_normal l2=0.001\n" +
      "separable_conv2d 4 2x2 bias=false\nbatchnorm\nflatten\ndense 3 softmax",
    statements: [
      "separable_conv2d 6 3x3 relu depth_multiplier=2 stride=2 padding=same init=he_normal l2=0.001",
      "separable_conv2d 4 2x2 bias=false",
    ],
    onnx: (operators, folded) =>
      folded
        ? assert.ok(operators["Conv"]! >= 4 && !operators["BatchNormalization"], JSON.stringify(operators))
        : assert.is(operators["BatchNormalization"], 1),
  },
  formatted:
    "model m {\n  input 8x8x2\n  separable_conv2d 16 3x3 relu depth_multiplier=2 stride=2 padding=same\n}\n",
  errors: [
    ["input 8x8x2\nseparable_conv2d 4 3x3 groups=2", "E201"],
    ["input 8\nseparable_conv2d 4 3x3", "E302"],
  ],
});

Op("l2= penalizes both kernels, as Keras' depthwise_ and pointwise_regularizer", async () => {
  const { dir } = await savedModel("input 6x6x2\nseparable_conv2d 4 3x3 l2=0.01\nflatten\ndense 2");
  const text = await importedSpec(dir);
  assert.match(text, "separable_conv2d 4 3x3 l2=0.01");
  assert.not.match(text, "differs");
});

Op("no FILTERS is an error", () => {
  assert.ok(errorCode("input 8x8x2\nseparable_conv2d 3x3"));
});

Op.run();
