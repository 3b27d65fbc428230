// Op `upsampling2d` through every phase (test/ops/shape-cases.ts).
import * as tfl from "@tensorflow/tfjs-layers";
import { shapeSuite } from "./shape-cases.ts";

shapeSuite({
  op: "upsampling2d",
  uses: [
    { statement: "upsampling2d 2", input: [3, 4, 2], layer: () => tfl.layers.upSampling2d({ size: [2, 2] }) },
    {
      statement: "upsampling2d 3x2",
      input: [2, 3, 1],
      layer: () => tfl.layers.upSampling2d({ size: [3, 2] }),
    },
  ],
  errors: [
    ["input 8\nupsampling2d 2\ndense 2", "E302"],
    ["input 4x4x1\nupsampling2d 0\nflatten\ndense 2", "E206"],
    ["input 4x4x1\nupsampling2d 2 interpolation=bilinear\nflatten\ndense 2", "E201"],
  ],
}).run();
