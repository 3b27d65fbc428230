import { suite } from "uvu";
import * as assert from "uvu/assert";
import { summarizeModel } from "../../src/check/summary.ts";
import { compile } from "../../src/compile.ts";
import { checked, codes, diagnosticsOf, spanText } from "../build/helpers.ts";

/**
 * [outputShape, trainable, nonTrainable] of every layer of a one-model file. Some fixtures end on images,
 * which no loss can train on (E306): that error is not what these tests are about.
 */
function shapes(text: string) {
  const { program, diagnostics } = checked(text);
  assert.equal(
    diagnostics.filter((d) => d.severity === "error" && d.code !== "E306"),
    [],
  );
  return program.models[0]!.layers.map((l) => [l.outputShape, l.params!.trainable, l.params!.nonTrainable]);
}

const params = suite("checker: parameter counts as Keras counts them");

// Reference figures: the notebook's model.summary() (seed/batchnorm-notebook.txt).
params("the notebook's baseline MLP has 109,386 parameters", () => {
  const s = summarizeModel(
    checked("input 28x28\nflatten\ndense 128 relu\ndense 64 relu\ndense 10 softmax").program.models[0]!,
  );
  assert.equal(
    s.layers.map((l) => l.params),
    [0, 0, 100480, 8256, 650],
  );
  assert.equal([s.totalParams, s.trainableParams, s.nonTrainableParams], [109386, 109386, 0]);
});

params("its buggy BN variant has 109,426, of which 20 non-trainable", () => {
  const s = summarizeModel(
    checked("input 28x28\nflatten\ndense 128 relu\ndense 64 relu\ndense 10 softmax\nbatchnorm").program
      .models[0]!,
  );
  assert.equal(s.layers[5], {
    name: "batch_normalization",
    type: "BatchNormalization",
    outputShape: [null, 10],
    params: 40,
    inputs: ["dense_2"],
  });
  assert.equal([s.totalParams, s.trainableParams, s.nonTrainableParams], [109426, 109406, 20]);
});

// Reference: Keras 2/3 model.summary() of the same Sequential model (conv 3*3*1*16+16 = 160, 3*3*16*32+32 = 4640,
// BN 4 per channel with 2 non-trainable, dense 1568*64+64 = 100416).
params("a convnet", () => {
  const got = shapes(
    "input 28x28x1\nconv2d 16 3x3 padding=same\nbatchnorm\nrelu\nmaxpool 2x2\nconv2d 32 3 padding=same\nbatchnorm\n" +
      "relu\nmaxpool 2\nflatten\ndense 64\nbatchnorm\nrelu\ndropout 0.25\ndense 10 softmax",
  );
  assert.equal(got, [
    [[null, 28, 28, 1], 0, 0],
    [[null, 28, 28, 16], 160, 0],
    [[null, 28, 28, 16], 32, 32],
    [[null, 28, 28, 16], 0, 0],
    [[null, 14, 14, 16], 0, 0],
    [[null, 14, 14, 32], 4640, 0],
    [[null, 14, 14, 32], 64, 64],
    [[null, 14, 14, 32], 0, 0],
    [[null, 7, 7, 32], 0, 0],
    [[null, 1568], 0, 0],
    [[null, 64], 100416, 0],
    [[null, 64], 128, 128],
    [[null, 64], 0, 0],
    [[null, 64], 0, 0],
    [[null, 10], 650, 0],
  ]);
});

params("bias=false, center/scale=false, layernorm", () => {
  assert.equal(
    shapes(
      "input 8\ndense 4 bias=false\nbatchnorm center=false\nbatchnorm scale=false center=false\nlayernorm\n" +
        "layernorm center=false\nlayernorm center=false scale=false",
    ).slice(1),
    [
      [[null, 4], 32, 0],
      [[null, 4], 4, 8],
      [[null, 4], 0, 8],
      [[null, 4], 8, 0],
      [[null, 4], 4, 0],
      [[null, 4], 0, 0],
    ],
  );
  assert.equal(shapes("input 5x5x3\nconv2d 2 3 bias=false")[1], [[null, 3, 3, 2], 54, 0]);
});
params.run();

const shape = suite("checker: output shapes");

shape("every op", () => {
  assert.equal(
    shapes(
      "input 28x28x3\nconv2d 4 3\nconv2d 4 3 stride=2\nconv2d 4 3x1 stride=2x1 padding=same\nmaxpool 2\n" +
        "avgpool 2 stride=1 padding=same\nlayernorm\ndropout 0.1\nsigmoid\nglobalavgpool\ndense 3\nactivation softmax",
    ).map((s) => s[0]),
    [
      [null, 28, 28, 3],
      [null, 26, 26, 4],
      [null, 12, 12, 4],
      [null, 6, 12, 4],
      [null, 3, 6, 4],
      [null, 3, 6, 4],
      [null, 3, 6, 4],
      [null, 3, 6, 4],
      [null, 3, 6, 4],
      [null, 4],
      [null, 3],
      [null, 3],
    ],
  );
  assert.equal(
    shapes("input 784\nflatten\ndense 2").map((s) => s[0]),
    [
      [null, 784],
      [null, 784],
      [null, 2],
    ],
  );
  assert.equal(
    shapes("input 7x5x2\nmaxpool 2\nflatten").map((s) => s[0]),
    [
      [null, 7, 5, 2],
      [null, 3, 2, 2],
      [null, 12],
    ],
  );
});

/** The single diagnostic of checking `text`. */
function only(text: string) {
  const diags = diagnosticsOf(text);
  assert.is(diags.length, 1, diags.map((d) => d.message).join("\n"));
  return { code: diags[0]!.code, message: diags[0]!.message, at: spanText(text, diags[0]!) };
}

shape("wrong ranks say how to fix them", () => {
  assert.equal(only("input 28x28\ndense 10"), {
    code: "E302",
    message:
      "'dense' expects rank-2 [batch, features] input, got rank-3 [?, 28, 28]; add 'flatten' before it",
    at: "dense 10",
  });
  assert.match(only("input 28x28\nconv2d 8 3").message, "use 'input 28x28x1' for images");
  assert.match(
    only("input 28x28x1\nflatten\nmaxpool 2").message,
    "the 'flatten' before it made each sample a vector",
  );
  assert.is(only("input 10\nglobalavgpool").code, "E302");
});

shape("an empty output is an error", () => {
  const d = only("input 4x4x1\nconv2d 2 5");
  assert.is(d.code, "E304");
  assert.is(
    d.message,
    "'conv2d' would produce an empty output [?, 0, 0, 2]: its 5x5 window does not fit the 4x4 input with padding=valid; use padding=same or a smaller window",
  );
  assert.equal(codes(diagnosticsOf("input 4x4x1\nconv2d 2 5 padding=same\nflatten\ndense 2")), []);
});

shape("model structure: input first, only first, not empty", () => {
  assert.equal(only("model m {\n dense 3\n}").code, "E300");
  assert.equal(only("input 4\ninput 4").code, "E301");
  assert.equal(only("model m {\n}\n").code, "E303");
});

shape("an error does not cascade, but independent errors after it are still found", () => {
  // After the bad dense the shape is unknown; the next dense fixes it to [?, 5] again.
  assert.equal(codes(diagnosticsOf("input 28x28\ndense 10\nbatchnorm\nrelu\ndense 5")), ["E302"]);
  assert.equal(codes(diagnosticsOf("input 28x28\ndense 10\nconv2d 3 3\nmaxpool 2")), ["E302"]);
  // A conv2d after a dense is wrong whatever came before.
  assert.equal(codes(diagnosticsOf("input 28x28\ndense 10\ndense 5\nconv2d 3 3")), ["E302", "E302"]);
});

shape("a statement the builder left out makes the shape unknown, not a follow-on error", () => {
  // 'flaten' is rejected; without it the dense would see rank 3 and report E302 for the user's typo.
  assert.equal(codes(diagnosticsOf("input 28x28\nflaten\ndense 10 softmax\nbatchnorm momentum=0.1")), [
    "E200",
    "W401",
    "W405",
  ]);
});
shape.run();

const size = suite("checker: sizes one tensor cannot hold (E309)");

size(
  "a weight, an output per sample or an input past 2^31-1 elements is E309, not a crash in training",
  () => {
    const kernel = diagnosticsOf("input 100000\ndense 100000");
    assert.equal(codes(kernel), ["E309"]);
    assert.is(
      kernel[0]!.message,
      "layer 'dense' is too large: its kernel would hold 10,000,000,000 values, more than the 2,147,483,647 one " +
        "TensorFlow.js tensor can hold",
    );
    assert.equal(codes(diagnosticsOf("input 4\ndense 99999999999")), ["E309"]);
    assert.equal(codes(diagnosticsOf("input 50000x50000\nflatten\ndense 10 softmax")), ["E309"]);
    assert.equal(codes(diagnosticsOf("input 1000x1000x3\nconv2d 3000 3 padding=same")), ["E309"]);
    // The largest sizes that fit stay fine.
    assert.equal(codes(diagnosticsOf("input 2\ndense 1073741824")), ["E309"]);
    assert.equal(codes(diagnosticsOf("input 2\ndense 1073741823")), []);
    assert.equal(codes(diagnosticsOf("input 2\ndense 1000000\ndense 2 softmax")), []);
  },
);

size("the builder rejects integers past 2^53 (not exact)", () => {
  const [d] = diagnosticsOf("input 4\ndense 1e20");
  assert.is(d!.code, "E206");
  assert.match(d!.message, "at most 9007199254740991");
  assert.equal(codes(diagnosticsOf("input 99999999999999999x2\nflatten\ndense 2 softmax")), ["E206"]);
});

size("IR JSON with huge sizes is caught by the checker too", async () => {
  const { compileIR } = await import("../../src/compile.ts");
  const ir = compile("input 4\ndense 2 softmax").program!;
  (ir.models[0]!.layers[1] as { units: number }).units = 1e20;
  assert.equal(codes(compileIR(JSON.stringify(ir)).diagnostics), ["E309"]);
});
size.run();

const followOn = suite("checker: no follow-on errors");

followOn("a bad input statement is reported once, not again as a missing input (E300)", () => {
  assert.equal(codes(diagnosticsOf("input 0x28\nflatten\ndense 10 softmax")), ["E206"]);
  assert.equal(codes(diagnosticsOf("model m {\n dense 3\n}")), ["E300"]);
});
followOn.run();

const unique = suite("checker: unique names, for .nn and IR JSON alike");

unique(
  "duplicate layer, model and experiment names are errors in IR JSON (they crashed training)",
  async () => {
    const { compileIR } = await import("../../src/compile.ts");
    const base = compile(
      "model a { input 4; dense 2 softmax }\nmodel b { input 4; dense 2 softmax }\n" +
        "experiment e { compare a b; vary batch 8 16; lr_scale none }",
    ).program!;
    const layers = structuredClone(base);
    layers.models[0]!.layers[1]!.name = "input_layer";
    assert.equal(codes(compileIR(JSON.stringify(layers)).diagnostics), ["E213"]);
    const models = structuredClone(base);
    models.models[1]!.name = "a";
    assert.ok(codes(compileIR(JSON.stringify(models)).diagnostics).includes("E208"));
    const experiments = structuredClone(base);
    experiments.experiments.push(structuredClone(experiments.experiments[0]!));
    assert.equal(codes(compileIR(JSON.stringify(experiments)).diagnostics), ["E217"]);
  },
);

unique("a .nn file reports each duplicate once, at the name", () => {
  const text = "input 4\ndense 3 name=x\ndense 2 softmax name=x";
  const result = compile(text);
  assert.equal(codes(result.diagnostics), ["E213"]);
  assert.is(spanText(text, result.diagnostics[0]!), "name=x");
  assert.equal(
    codes(compile("model a { input 4; dense 2 softmax }\nmodel a { input 4; dense 2 softmax }").diagnostics),
    ["E208"],
  );
});
unique.run();
