// Op `globalmaxpool1d` (Keras GlobalMaxPooling1D) through every phase (test/ops/shape-cases.ts).
import * as tfl from "@tensorflow/tfjs-layers";
import { shapeSuite } from "./shape-cases.ts";

shapeSuite({
  op: "globalmaxpool1d",
  uses: [
    {
      statement: "globalmaxpool1d",
      input: [7, 3],
      layer: () => tfl.layers.globalMaxPooling1d({}),
      spec: "input 7x3\nbatchnorm\nglobalmaxpool1d\ndense 3 softmax",
    },
  ],
  errors: [
    ["input 8\nglobalmaxpool1d\ndense 2", "E302"],
    ["input 4x4x2\nglobalmaxpool1d\ndense 2", "E302"],
  ],
}).run();
