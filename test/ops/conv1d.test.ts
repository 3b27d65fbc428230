// Op conv1d (Keras Conv1D) through every phase: parameter counts and output shapes equal to tfjs-layers' own
// layer (built from nnc's export and directly with its API), predictions of the Layers export equal nnc's
// (dilated and strided included); the compiled step's gradients equal autograd's (wasm and cpu; a dilated
// conv1d's autograd takes conv-grads.ts' dilatedConv2d, whose gradients test/ops/conv-grads.test.ts checks
// against the zero-stuffed undilated convolution), two threads equal one; batchnorm folds into its kernel (and
// W410 names its bias); nnc import, load, ONNX and the formatter give it back; E785, E302, E304.
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
import { diagnosticOf } from "./phases.ts";

const Op = suite("op conv1d");

const SPECS = [
  "input 20x3\nconv1d 8 5 relu padding=same\nconv1d 4 3\nflatten\ndense 3 softmax",
  "input 21x2\nconv1d 6 4 stride=3 bias=false\nflatten\ndense 3 softmax",
  "input 24x3\nconv1d 5 3 dilation=2 tanh\nconv1d 4 2 dilation=3 padding=same\nbatchnorm\nrelu\nflatten\ndense 3",
  "input 17x1\nconv1d 8 4 stride=2 padding=same\nbatchnorm\nrelu\nconv1d 3 1\nflatten\ndense 2 softmax",
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

Op("parameter count and shape equal tfjs-layers' Conv1D built with its API", async () => {
  const cases: Array<[spec: string, args: Parameters<typeof tfl.layers.conv1d>[0], input: number[]]> = [
    [SPECS[1]!, { filters: 6, kernelSize: 4, strides: 3, useBias: false }, [21, 2]],
    [SPECS[2]!, { filters: 5, kernelSize: 3, dilationRate: 2, activation: "tanh" }, [24, 3]],
  ];
  for (const [spec, args, input] of cases) {
    const parity = await kerasParity(spec);
    const ours = parity.layers.find((l) => l.op === "conv1d")!;
    const layer = tfl.layers.conv1d(args);
    const out = layer.apply(tfl.input({ shape: input })) as tfl.SymbolicTensor;
    assert.is(ours.nncParams, layer.countParams());
    assert.equal(ours.nncShape, out.shape);
  }
  // Keras' formula, for the reader: K * in * FILTERS (+ FILTERS with a bias).
  assert.is((await kerasParity(SPECS[1]!)).layers[1]!.nncParams, 4 * 2 * 6);
});

const STEP_SPECS = [
  "input 16x2; conv1d 8 3 padding=same; batchnorm; relu; conv1d 4 3 stride=2 relu; flatten; dense 3 softmax",
  "input 19x3; conv1d 5 3 dilation=2 tanh; conv1d 6 2 dilation=3 padding=same sigmoid bias=false; flatten; dense 3 softmax",
  "input 15x1; conv1d 8 4 stride=3 padding=same; conv1d 4 3 dilation=2 padding=same; batchnorm; relu; flatten; dense 3 softmax",
];
for (const spec of STEP_SPECS) {
  for (const backend of ["wasm", "cpu"] as const) {
    Op(`compiled step == autograd (${backend}): ${spec.slice(0, 80)}`, () =>
      assertCompiledStepAgrees(spec, backend),
    );
  }
}

Op("two threads train what one thread trains (dilated and strided)", async () => {
  await assertThreadsAgree(
    "input 16x2\nconv1d 8 3 padding=same dilation=2\nbatchnorm momentum=0.5\nrelu\nconv1d 4 3 stride=2\nflatten\ndense 3 softmax name=out",
  );
});

Op("a batchnorm after it folds into its kernel and bias; W410 names its bias", async () => {
  const spec =
    "input 12x3\nconv1d 8 3 padding=same dilation=2\nbatchnorm\nrelu\nconv1d 4 3 stride=2 bias=false\nbatchnorm\nflatten\ndense 3";
  assert.equal(await foldedAgree(spec), ["batch_normalization", "batch_normalization_1"]);
  assert.equal(lintCodes(spec), ["W410"]);
  assert.equal(lintCodes(spec.replace("dilation=2\n", "dilation=2 bias=false\n")), []);
});

Op("nnc import of the export writes the statement back; load and ONNX predict as nnc", async () => {
  const spec =
    "input 24x2\nconv1d 6 5 relu stride=2 padding=same init=he_normal l2=0.001\n" +
    "conv1d 4 3 dilation=2 padding=same bias=false\nbatchnorm\nflatten\ndense 3 softmax";
  const saved = await savedModel(spec);
  const text = await importedSpec(saved.dir);
  assert.match(text, "conv1d 6 5 relu stride=2 padding=same init=he_normal l2=0.001");
  assert.match(text, "conv1d 4 3 padding=same dilation=2 bias=false");
  await assertLoadAgrees(saved);
  const folded = await assertOnnxAgrees(saved, true);
  // A batchnorm over [batch, steps, channels] exports as Mul and Add on the last axis (src/ops/batchnorm.ts).
  assert.ok(folded["Conv"] === 2 && !folded["Mul"] && !folded["BatchNormalization"], JSON.stringify(folded));
  const kept = await assertOnnxAgrees(saved, false);
  assert.is(kept["Mul"], 1, JSON.stringify(kept));
});

Op("the formatter keeps the statement", async () => {
  const text = "model m {\n  input 32x2\n  conv1d 16 5 relu padding=same dilation=2\n}\n";
  assert.is(await formatSource(text), text);
  assert.is(await formatSource(text.replace("  conv1d", "      conv1d")), text);
});

Op("errors: stride and dilation both above 1 (E785), not sequences (E302), too long a window (E304)", () => {
  assert.is(errorCode("input 16x2\nconv1d 4 3 stride=2 dilation=2\nflatten\ndense 2"), "E785");
  const d = diagnosticOf("input 16x2\nconv1d 4 3 stride=2 dilation=2\nflatten\ndense 2", "E785");
  assert.match(d.message, "stride=2 and dilation=2");
  assert.is(errorCode("input 16\nconv1d 4 3\nflatten\ndense 2"), "E302");
  assert.match(diagnosticOf("input 16\nconv1d 4 3\nflatten\ndense 2", "E302").message, "input 16x1");
  assert.is(errorCode("input 8x8x1\nconv1d 4 3\nflatten\ndense 2"), "E302");
  // Dilated, a 3-tap window spans 9 steps: more than the 8 there are.
  assert.is(errorCode("input 8x1\nconv1d 4 3 dilation=4\nflatten\ndense 2"), "E304");
  assert.is(errorCode("input 8x1\nconv1d 4 3 groups=2\nflatten\ndense 2"), "E201");
  assert.ok(errorCode("input 8x1\nconv1d 4 3x3\nflatten\ndense 2"), "a 2-D window is not conv1d's");
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
