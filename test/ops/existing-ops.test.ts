// The ops nnc had before issue 20, against tfjs-layers' own layers (test/ops/parity.ts): parameter counts and
// output shapes per layer equal to what tfjs-layers builds from nnc's export, predictions within 1e-5.
import { suite } from "uvu";
import { assertKerasParity } from "./parity.ts";

const Existing = suite("ops against tfjs-layers' own layers");

const SPECS: Array<[string, string]> = [
  [
    "dense, batchnorm, activations, dropout, layernorm",
    "input 12\ndense 8 relu\nbatchnorm\ndense 8 bias=false\nbatchnorm momentum=0.9\ntanh\ndropout 0.3\n" +
      "layernorm\ndense 6 elu\ngelu\ndense 4 softmax",
  ],
  [
    "conv2d, pooling, add and concat",
    "input 9x9x2\nconv2d 4 3x3 relu padding=same name=a\nconv2d 4 3x3 padding=same\nbatchnorm\nadd a\n" +
      "concat a\nmaxpool 2x2\navgpool 2x2 padding=same\nconv2d 3 1x1 stride=2\nglobalavgpool\ndense 3 sigmoid",
  ],
];

for (const [name, spec] of SPECS) Existing(name, () => assertKerasParity(spec));

Existing.run();
