// The checks every elementwise merge op (multiply, average, maximum, minimum; subtract with two inputs) goes
// through, as one uvu suite per op: tfjs-layers parity (its own layer's parameter count and output shape, and
// predictions of nnc's export), the compiled step against autograd on wasm and cpu, two threads against one,
// Keras import and ONNX round trips, the formatter, the language server, and the shape error.
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kerasParity } from "./parity.ts";
import {
  codesOf,
  completions,
  diagnosticOf,
  formatted,
  hoverText,
  importRoundTrip,
  onnxDifference,
} from "./phases.ts";
import { assertCompiledStepAgrees, assertThreadsAgree, TRAIN } from "./step.ts";

export interface MergeCase {
  op: string;
  /** tfjs-layers' own layer, when it has one (it has no Subtract). */
  tfjsLayer?: () => tfl.layers.Layer;
  /** Inputs it takes besides the current tensor: 1 (subtract) or more. */
  many: boolean;
}

export function mergeSuite(c: MergeCase) {
  const S = suite(`op ${c.op}`);
  const more = c.many ? " b" : "";
  // Relu branches: equal values (zeros) in both inputs, so ties of maximum / minimum are exercised.
  const images =
    "input 6x6x2\nconv2d 3 3x3 padding=same relu name=a\nconv2d 3 3x3 padding=same relu name=b\n" +
    `conv2d 3 3x3 padding=same\n${c.op} a${more}\nflatten\ndense 3 softmax`;
  const vectors = `input 5\ndense 4 tanh name=a\ndense 4 name=b\ndense 4 sigmoid\n${c.op} a${more}\ndense 3 softmax`;

  S("parameters and output shape of tfjs-layers' own layer; predictions of the export equal", async () => {
    if (c.tfjsLayer) {
      const inputs = [tfl.input({ shape: [6, 6, 3] }), tfl.input({ shape: [6, 6, 3] })];
      if (c.many) inputs.push(tfl.input({ shape: [6, 6, 3] }));
      const layer = c.tfjsLayer();
      const out = layer.apply(inputs) as tfl.SymbolicTensor;
      assert.is(layer.countParams(), 0);
      assert.equal(out.shape, [null, 6, 6, 3]);
    }
    for (const spec of [images, vectors]) {
      const parity = await kerasParity(spec);
      const node = parity.layers.find((l) => l.op === c.op)!;
      assert.is(node.tfjsParams, 0);
      assert.is(node.nncParams, 0);
      assert.equal(node.nncShape, node.tfjsShape);
      for (const l of parity.layers) assert.is(l.tfjsParams, l.nncParams, `${l.name}: parameters`);
      assert.ok(parity.maxAbs > 1e-3, `predictions are not all ~0 (${parity.maxAbs})`);
      assert.ok(parity.maxDiff < 1e-5, `predictions differ by ${parity.maxDiff}`);
    }
  });

  for (const backend of ["wasm", "cpu"] as const) {
    S(`the compiled step equals autograd (${backend})`, async () => {
      const largest = await assertCompiledStepAgrees(images + TRAIN, backend);
      assert.ok(largest > 1e-6, "gradients flow");
      await assertCompiledStepAgrees(vectors + TRAIN, backend);
    });
  }

  S("two threads train what one thread trains", async () => {
    await assertThreadsAgree(vectors + TRAIN);
  });

  S("Keras import reads the export back as the same statement", async () => {
    const text = await importRoundTrip(images);
    assert.match(text, new RegExp(`^${c.op} \\w+${c.many ? " \\w+" : ""}$`, "m"));
  });

  S("ONNX export predicts what nnc predicts", async () => {
    const { maxDiff, maxAbs } = await onnxDifference(images);
    assert.ok(maxAbs > 1e-3);
    assert.ok(maxDiff < 1e-5, `ONNX differs by ${maxDiff}`);
  });

  S("nnc fmt keeps the statement; hover and completion know the op", async () => {
    const messy = images.replace(`${c.op} a`, `${c.op}   a`);
    assert.is(await formatted(messy), `${images}\n`);
    assert.match(hoverText(images, `${c.op} a`), c.op);
    assert.ok(completions(`input 4\n${c.op.slice(0, 3)}`).includes(c.op), "completed");
  });

  S("inputs of different shapes are E310, naming both", () => {
    const spec = `input 5\ndense 4 name=a\ndense 3\n${c.op} a\ndense 2`;
    const d = diagnosticOf(spec, "E310");
    assert.match(d.message, "[?, 3]");
    assert.match(d.message, "[?, 4]");
    assert.equal(codesOf(`input 5\ndense 4 name=a\n${c.op} a scale=2`), ["E201"]);
  });

  return S;
}
