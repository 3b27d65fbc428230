import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compatibleShapes } from "../../src/data/shapes.ts";

const Shapes = suite("compatibleShapes");

const cases: [number[], number[], boolean][] = [
  [[28, 28], [28, 28], true],
  [[28, 28], [28, 28, 1], true],
  [[28, 28], [784], true],
  [[784], [28, 28, 1], true],
  [[784], [28, 28], true],
  [[784], [784], true],
  [[28, 28], [14, 56], false],
  [[28, 28], [28, 28, 3], false],
  [[28, 28], [32, 32, 1], false],
  [[28, 28], [783], false],
  [[784], [28, 28, 3], false],
  [[28, 28, 1], [28, 28], false],
];

for (const [sample, input, ok] of cases) {
  Shapes(`samples [${sample}] ${ok ? "fit" : "do not fit"} input [${input}]`, () => {
    assert.is(compatibleShapes(sample, input), ok);
  });
}

Shapes.run();
