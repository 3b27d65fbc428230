// The FLOPs of a training step per sample (src/ir/flops.ts), worked by hand: 2 per multiply-add; a kernel layer
// three times in training (forward, input gradient, kernel gradient), twice when nothing that learns feeds it.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { forwardMacs, trainingFlops } from "../../src/ir/flops.ts";
import { stepWorkPerSample } from "../../src/train/parallel/plan.ts";

const modelOf = (text: string) => {
  const r = compile(text);
  if (!r.program) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  return r.program.models[0]!;
};

const F = suite("training FLOPs per sample");

F("the notebook's BN MLP: the first dense has no input gradient, batchnorm and relu count nothing", () => {
  const model = modelOf(
    "input 28x28; flatten; dense 128; batchnorm; relu; dense 64; batchnorm; relu; dense 10 softmax",
  );
  const macs = [784 * 128, 128 * 64, 64 * 10];
  const f = trainingFlops(model);
  assert.is(f.forwardPerSample, 2 * (macs[0]! + macs[1]! + macs[2]!));
  assert.is(f.perSample, 2 * (2 * macs[0]! + 3 * macs[1]! + 3 * macs[2]!));
});

F("a convolution: its kernel over every output position (same padding, stride, valid)", () => {
  const model = modelOf(
    "input 28x28x1; conv2d 16 3x3 padding=same; maxpool 2x2; conv2d 8 3x3 stride=2; flatten; dense 10 softmax",
  );
  const [, conv1, , conv2, , dense] = model.layers;
  assert.is(forwardMacs(conv1!, model), 28 * 28 * 9 * 1 * 16);
  // 14x14 in, 3x3 valid stride 2: 6x6 out.
  assert.is(forwardMacs(conv2!, model), 6 * 6 * 9 * 16 * 8);
  assert.is(forwardMacs(dense!, model), 6 * 6 * 8 * 10);
  const f = trainingFlops(model);
  assert.is(f.perSample, 2 * (2 * 28 * 28 * 9 * 16 + 3 * 6 * 6 * 9 * 16 * 8 + 3 * 6 * 6 * 8 * 10));
});

F(
  "a frozen-looking start: a kernel after only non-learning nodes needs no input gradient, after batchnorm it does",
  () => {
    const first = trainingFlops(modelOf("input 8; dropout 0.1; dense 4 softmax"));
    assert.is(first.perSample, 2 * 2 * 8 * 4);
    const afterBn = trainingFlops(modelOf("input 8; batchnorm; dense 4 softmax"));
    assert.is(afterBn.perSample, 3 * 2 * 8 * 4);
  },
);

F("a residual graph counts each branch's kernels once", () => {
  const model = modelOf("input 8; dense 8; residual { dense 8 relu; dense 8 }; dense 2 softmax");
  assert.is(trainingFlops(model).forwardPerSample, 2 * (8 * 8 * 3 + 8 * 2));
});

F(
  "depthwise, separable and transposed convolutions count their own multiply-adds (OpDefinition.macs)",
  () => {
    const model = modelOf(
      "input 8x8x3; depthwise_conv2d 3x3 depth_multiplier=2 padding=same; separable_conv2d 5 3x3 stride=2; " +
        "conv2d_transpose 4 2x2 stride=2; flatten; dense 2 softmax",
    );
    const [, depthwise, separable, transpose] = model.layers;
    // 8x8 out, 6 channels (3 x 2), each a 3x3 kernel at every position: not the whole kernel's 54 values.
    assert.is(forwardMacs(depthwise!, model), 8 * 8 * 6 * 9);
    // 8x8x6 in, 3x3 valid stride 2: 3x3 out; a 3x3 depthwise tap per middle channel, then 6 -> 5 per pixel.
    assert.is(forwardMacs(separable!, model), 3 * 3 * (6 * 9 + 6 * 5));
    // 3x3x5 in, each input value spreads over a 2x2 window of 4 filters.
    assert.is(forwardMacs(transpose!, model), 3 * 3 * 5 * (2 * 2 * 4));
    // The thread planner reads the same rule: image layers twice, dense once.
    const convs =
      forwardMacs(depthwise!, model) + forwardMacs(separable!, model) + forwardMacs(transpose!, model);
    assert.is(stepWorkPerSample(model), 2 * convs + 6 * 6 * 4 * 2);
  },
);

F("conv1d counts its kernel at every output step, dilated or strided (OpDefinition.macs)", () => {
  const model = modelOf(
    "input 32x2; conv1d 8 5 padding=same; conv1d 4 3 dilation=2; conv1d 6 3 stride=2; flatten; dense 2 softmax",
  );
  const [, same, dilated, strided] = model.layers;
  // 32 steps out, a 5-tap kernel over 2 channels to 8 filters at each.
  assert.is(forwardMacs(same!, model), 32 * 5 * 2 * 8);
  // Valid, 3 taps 2 apart span 5 steps: 28 out; the taps, not the span, multiply.
  assert.is(forwardMacs(dilated!, model), 28 * 3 * 8 * 4);
  // Valid, stride 2 over 28: 13 out.
  assert.is(forwardMacs(strided!, model), 13 * 3 * 4 * 6);
});

F.run();
