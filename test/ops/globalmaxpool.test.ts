// Op `globalmaxpool` (Keras GlobalMaxPooling2D) through every phase (test/ops/shape-cases.ts).
import * as tfl from "@tensorflow/tfjs-layers";
import { shapeSuite } from "./shape-cases.ts";

shapeSuite({
  op: "globalmaxpool",
  uses: [
    {
      statement: "globalmaxpool",
      input: [5, 4, 2],
      layer: () => tfl.layers.globalMaxPooling2d({}),
      // relu: ties at 0 in a channel, routed as tf's gradient of max routes them.
      spec: "input 5x4x2\nconv2d 3 3x3 padding=same relu\nglobalmaxpool\ndense 3 softmax",
    },
  ],
  errors: [
    ["input 8\nglobalmaxpool\ndense 2", "E302"],
    ["input 8x2\nglobalmaxpool\ndense 2", "E302"],
  ],
}).run();
