// Op `maxpool1d` (Keras MaxPooling1D) through every phase (test/ops/shape-cases.ts).
import * as tfl from "@tensorflow/tfjs-layers";
import { shapeSuite } from "./shape-cases.ts";

shapeSuite({
  op: "maxpool1d",
  uses: [
    { statement: "maxpool1d 2", input: [12, 3], layer: () => tfl.layers.maxPooling1d({ poolSize: 2 }) },
    {
      statement: "maxpool1d 3 stride=2 padding=same",
      input: [11, 2],
      layer: () => tfl.layers.maxPooling1d({ poolSize: 3, strides: 2, padding: "same" }),
    },
  ],
  errors: [
    ["input 8\nmaxpool1d 2\ndense 2", "E302"],
    ["input 4x4x1\nmaxpool1d 2\nflatten\ndense 2", "E302"],
    ["input 3x2\nmaxpool1d 4\nflatten\ndense 2", "E304"],
    ["input 8x2\nmaxpool1d 2x2\nflatten\ndense 2", "E202"],
  ],
}).run();
