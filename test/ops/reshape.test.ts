// Op `reshape` (Keras Reshape) through every phase (test/ops/shape-cases.ts), and its errors with the shapes.
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { diagnosticOf } from "./phases.ts";
import { shapeSuite } from "./shape-cases.ts";

shapeSuite({
  op: "reshape",
  uses: [
    {
      statement: "reshape 6x4",
      input: [24],
      layer: () => tfl.layers.reshape({ targetShape: [6, 4] }),
      spec: "input 24\ndense 24 tanh\nreshape 6x4\nmaxpool1d 2\nflatten\ndense 3 softmax",
    },
    {
      statement: "reshape 2x3x6",
      input: [4, 3, 2],
      layer: () => tfl.layers.reshape({ targetShape: [2, 3, 6] }),
    },
    {
      statement: "reshape -1x3",
      input: [4, 3, 2],
      layer: () => tfl.layers.reshape({ targetShape: [-1, 3] }),
      // tfjs-layers leaves the -1 unknown (null) when the batch is; Keras (and nnc) compute it: 12.
      tfjsShape: [null, null, 3],
      spec: "input 4x3x2\nconv2d 3 3x3 padding=same tanh\nreshape -1x3\nglobalmaxpool1d\ndense 3 softmax",
    },
  ],
  errors: [
    ["input 28x28\nreshape 7x4x27\nflatten\ndense 2", "E790"],
    ["input 28x28\nreshape -1x-1\nflatten\ndense 2", "E789"],
    ["input 28x28\nreshape 0x28\nflatten\ndense 2", "E788"],
    ["input 28x28\nreshape 2.5\nflatten\ndense 2", "E202"],
  ],
}).run();

const Messages = suite("op reshape: messages name the shapes");

Messages("a product mismatch, two -1s, a zero or negative size", () => {
  const mismatch = diagnosticOf("input 28x28\nreshape 7x4x27\nflatten\ndense 2", "E790").message;
  assert.match(mismatch, "[?, 28, 28]");
  assert.match(mismatch, "7x4x27");
  assert.match(mismatch, "784");
  assert.match(mismatch, "756");
  const rows = diagnosticOf("input 28x28\nreshape -1x5\nflatten\ndense 2", "E790").message;
  assert.match(rows, "784 values per sample are not a multiple of 5");
  assert.match(diagnosticOf("input 28x28\nreshape -1x2x-1\nflatten\ndense 2", "E789").message, "-1x2x-1");
  for (const target of ["0x28", "28x-2"]) {
    const d = diagnosticOf(`input 28x28\nreshape ${target}\nflatten\ndense 2`, "E788");
    assert.match(d.message, `'reshape ${target}' of [?, 28, 28]`);
  }
  // Shapes elsewhere keep their sizes positive.
  assert.ok(diagnosticOf("input 28x-1\nflatten\ndense 2", "E206"));
});

Messages.run();
