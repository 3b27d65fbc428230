// Op `cropping2d` through every phase (test/ops/shape-cases.ts).
import * as tfl from "@tensorflow/tfjs-layers";
import { shapeSuite } from "./shape-cases.ts";

shapeSuite({
  op: "cropping2d",
  uses: [
    { statement: "cropping2d 1", input: [5, 6, 2], layer: () => tfl.layers.cropping2D({ cropping: 1 }) },
    {
      statement: "cropping2d 2x1",
      input: [6, 4, 1],
      layer: () => tfl.layers.cropping2D({ cropping: [2, 1] }),
    },
  ],
  errors: [
    ["input 8\ncropping2d 1\ndense 2", "E302"],
    // Cropping 2 off each side of 4 rows leaves nothing.
    ["input 4x6x1\ncropping2d 2x1\nflatten\ndense 2", "E304"],
  ],
}).run();
