// Op `avgpool1d` (Keras AveragePooling1D) through every phase (test/ops/shape-cases.ts); autograd trains it.
import * as tfl from "@tensorflow/tfjs-layers";
import { shapeSuite } from "./shape-cases.ts";

shapeSuite({
  op: "avgpool1d",
  compiled: false,
  uses: [
    { statement: "avgpool1d 2", input: [12, 3], layer: () => tfl.layers.averagePooling1d({ poolSize: 2 }) },
    {
      statement: "avgpool1d 3 stride=2 padding=same",
      input: [11, 2],
      layer: () => tfl.layers.averagePooling1d({ poolSize: 3, strides: 2, padding: "same" }),
    },
  ],
  errors: [
    ["input 8\navgpool1d 2\ndense 2", "E302"],
    ["input 3x2\navgpool1d 2 stride=0\nflatten\ndense 2", "E206"],
  ],
}).run();
