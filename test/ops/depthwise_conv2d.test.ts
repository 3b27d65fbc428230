// Op depthwise_conv2d (Keras DepthwiseConv2D) through every phase: parameter counts and output shapes equal to
// tfjs-layers' own layer (built from nnc's export and directly with its API), predictions of the Layers export
// equal nnc's; the compiled step's closed-form gradients equal autograd's (wasm and cpu), two threads equal one;
// batchnorm folds into it (and W410 names its bias); nnc import, load, ONNX and the formatter give it back.
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { formatSource } from "../../src/format/index.ts";
import {
  assertCompiledStepAgrees,
  assertLoadAgrees,
  assertOnnxAgrees,
  assertThreadsAgree,
  errorCode,
  foldedAgree,
  importedSpec,
  lintCodes,
  savedModel,
} from "./conv-helpers.ts";
import { kerasParity } from "./parity.ts";

const Op = suite("op depthwise_conv2d");

const SPECS = [
  "input 9x9x3\ndepthwise_conv2d 3x3 relu padding=same\nglobalavgpool\ndense 3 softmax",
  "input 9x8x2\ndepthwise_conv2d 3x2 depth_multiplier=3 stride=2 bias=false\nflatten\ndense 3 softmax",
  "input 8x8x4\ndepthwise_conv2d 3x3 stride=2 padding=same\nbatchnorm\nrelu\ndepthwise_conv2d 1x1 depth_multiplier=2 tanh\nflatten\ndense 3",
];

for (const spec of SPECS) {
  Op(`against tfjs-layers: ${spec.split("\n").slice(1, 3).join("; ")}`, async () => {
    const parity = await kerasParity(spec);
    for (const l of parity.layers) {
      assert.is(l.tfjsParams, l.nncParams, `${l.name} (${l.op}): parameters`);
      assert.equal(l.tfjsShape, l.nncShape, `${l.name} (${l.op}): output shape`);
    }
    assert.ok(parity.maxAbs > 1e-3, `predictions are not all ~0 (${parity.maxAbs})`);
    assert.ok(parity.maxDiff < 1e-5, `predictions differ by ${parity.maxDiff}`);
  });
}

Op("parameter count and shape equal tfjs-layers' DepthwiseConv2D built with its API", async () => {
  const parity = await kerasParity(SPECS[1]!);
  const ours = parity.layers.find((l) => l.op === "depthwise_conv2d")!;
  const layer = tfl.layers.depthwiseConv2d({
    kernelSize: [3, 2],
    depthMultiplier: 3,
    strides: 2,
    useBias: false,
  });
  const out = layer.apply(tfl.input({ shape: [9, 8, 2] })) as tfl.SymbolicTensor;
  assert.is(ours.nncParams, layer.countParams());
  assert.is(ours.nncParams, 3 * 2 * 2 * 3);
  assert.equal(ours.nncShape, out.shape);
});

const STEP_SPECS = [
  "input 6x6x2; depthwise_conv2d 3x3 depth_multiplier=2 padding=same; batchnorm; relu; depthwise_conv2d 3x3 stride=2 relu; flatten; dense 3 softmax",
  "input 7x7x3; depthwise_conv2d 3x2 stride=2 padding=same tanh; depthwise_conv2d 2x2 depth_multiplier=2 sigmoid bias=false; flatten; dense 3 softmax",
];
for (const spec of STEP_SPECS) {
  for (const backend of ["wasm", "cpu"] as const) {
    Op(`compiled step == autograd (${backend}): ${spec.slice(0, 70)}`, () =>
      assertCompiledStepAgrees(spec, backend),
    );
  }
}

Op("two threads train what one thread trains", () =>
  assertThreadsAgree(
    "input 6x6x2\ndepthwise_conv2d 3x3 depth_multiplier=2 padding=same\nbatchnorm momentum=0.5\nrelu\nglobalavgpool\ndense 3 softmax name=out",
  ),
);

Op("a batchnorm after it folds into its depthwise kernel and bias; W410 names its bias", async () => {
  const spec =
    "input 6x6x3\ndepthwise_conv2d 3x3 depth_multiplier=2 padding=same\nbatchnorm\nrelu\ndepthwise_conv2d 3x3 bias=false\nbatchnorm\nflatten\ndense 3";
  assert.equal(await foldedAgree(spec), ["batch_normalization", "batch_normalization_1"]);
  assert.equal(lintCodes(spec), ["W410"]);
  assert.equal(lintCodes(spec.replace("padding=same\n", "padding=same bias=false\n")), []);
});

Op("nnc import of the export writes the statement back; load and ONNX predict as nnc", async () => {
  const spec =
    "input 8x8x2\ndepthwise_conv2d 3x3 relu depth_multiplier=2 stride=2 padding=same init=he_normal l2=0.001\n" +
    "depthwise_conv2d 2x2 bias=false\nbatchnorm\nflatten\ndense 3 softmax";
  const saved = await savedModel(spec);
  const text = await importedSpec(saved.dir);
  assert.match(
    text,
    "depthwise_conv2d 3x3 relu depth_multiplier=2 stride=2 padding=same init=he_normal l2=0.001",
  );
  assert.match(text, "depthwise_conv2d 2x2 bias=false");
  await assertLoadAgrees(saved);
  const folded = await assertOnnxAgrees(saved, true);
  assert.ok(folded["Conv"]! >= 2 && !folded["BatchNormalization"], JSON.stringify(folded));
  const kept = await assertOnnxAgrees(saved, false);
  assert.is(kept["BatchNormalization"], 1);
});

Op("the formatter keeps the statement", async () => {
  const text =
    "model m {\n  input 8x8x2\n  depthwise_conv2d 3x3 relu depth_multiplier=2 stride=2 padding=same\n}\n";
  assert.is(await formatSource(text), text);
  assert.is(await formatSource(text.replace("  depthwise", "      depthwise")), text);
});

Op("errors: an unknown option (E201), a rank-2 input (E302)", () => {
  assert.is(errorCode("input 8x8x2\ndepthwise_conv2d 3x3 filters=4"), "E201");
  assert.is(errorCode("input 8\ndepthwise_conv2d 3x3"), "E302");
});

Op.run();
