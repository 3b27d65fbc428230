// Op `globalavgpool1d` (Keras GlobalAveragePooling1D) through every phase (test/ops/shape-cases.ts).
import * as tfl from "@tensorflow/tfjs-layers";
import { shapeSuite } from "./shape-cases.ts";

shapeSuite({
  op: "globalavgpool1d",
  uses: [
    {
      statement: "globalavgpool1d",
      input: [7, 3],
      layer: () => tfl.layers.globalAveragePooling1d({}),
      spec: "input 7x3\nbatchnorm\nglobalavgpool1d\ndense 3 softmax",
    },
  ],
  errors: [
    ["input 8\nglobalavgpool1d\ndense 2", "E302"],
    ["input 4x4x2\nglobalavgpool1d\ndense 2", "E302"],
  ],
}).run();
