// Test helpers for saving: the specs the tests save and how they compare outputs (temp folders and "fails
// with code X" are in test/helpers.ts).
import * as tf from "@tensorflow/tfjs-core";
import * as assert from "uvu/assert";
import type { Program } from "../../src/ir/schema.ts";

/** The notebook's MLP with batch norm (bias dropped before BN), small. */
export const MLP_SPEC =
  "input 6x6\nflatten\ndense 12 bias=false\nbatchnorm epsilon=0.1\nrelu\ndense 4 softmax";
/** A small convnet: conv/BN/pooling of both kinds, layer norm, dropout, global pooling. */
export const CONV_SPEC =
  "input 8x8x2\nconv2d 4 3 padding=same\nbatchnorm\nrelu\nmaxpool 2\nconv2d 3 3x1 stride=2x1\n" +
  "avgpool 2 stride=1 padding=same\nlayernorm epsilon=0.05\ngelu\nglobalavgpool\ndense 5\ndropout 0.2\nactivation softmax";

export const inputShape = (program: Program): number[] => {
  const input = program.models[0]!.layers[0]!;
  if (input.op !== "input") throw new Error("first layer is not an input");
  return input.shape;
};

/** A deterministic batch of inputs (no tfjs randomness: tests must not depend on Math.random). */
export function sampleInputs(program: Program, count: number): tf.Tensor {
  const shape = [count, ...inputShape(program)];
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898) * 1.5;
  return tf.tensor(data, shape);
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.equal(a.shape, b.shape, "output shapes");
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
