// Op `zeropadding2d` through every phase (test/ops/shape-cases.ts).
import * as tfl from "@tensorflow/tfjs-layers";
import { shapeSuite } from "./shape-cases.ts";

shapeSuite({
  op: "zeropadding2d",
  uses: [
    { statement: "zeropadding2d 1", input: [3, 4, 2], layer: () => tfl.layers.zeroPadding2d({ padding: 1 }) },
    {
      statement: "zeropadding2d 2x1",
      input: [3, 3, 1],
      layer: () => tfl.layers.zeroPadding2d({ padding: [2, 1] }),
    },
  ],
  errors: [
    ["input 8\nzeropadding2d 1\ndense 2", "E302"],
    ["input 4x4x1\nzeropadding2d 1 mode=reflect\nflatten\ndense 2", "E201"],
  ],
}).run();
