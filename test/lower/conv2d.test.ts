// conv2d's own gradient (wasm has no Conv2DBackpropFilter) equals tfjs' gradient on the cpu backend, which has
// the kernel, for valid/same padding and strides 1/2 with odd sizes; and wasm computes the same values.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { conv2dTrainable } from "../../src/lower/conv2d.ts";
import { closeness, useBackend, values } from "./helpers.ts";

const Conv = suite("conv2d gradient");

const CASES: Array<{
  x: [number, number, number, number];
  k: [number, number, number, number];
  s: [number, number];
  pad: "valid" | "same";
}> = [
  { x: [2, 7, 7, 3], k: [3, 3, 3, 4], s: [1, 1], pad: "same" },
  { x: [2, 7, 6, 2], k: [3, 2, 2, 3], s: [2, 2], pad: "same" },
  { x: [3, 8, 7, 2], k: [3, 3, 2, 2], s: [2, 1], pad: "valid" },
  { x: [1, 9, 9, 1], k: [2, 2, 1, 2], s: [3, 3], pad: "valid" },
];

const grads = (c: (typeof CASES)[number], own: boolean) =>
  tf.tidy(() => {
    const x = tf.randomUniform(c.x, -1, 1, "float32", 1) as tf.Tensor4D;
    const k = tf.randomUniform(c.k, -1, 1, "float32", 2) as tf.Tensor4D;
    const f = (xi: tf.Tensor, ki: tf.Tensor) => {
      const y = own
        ? conv2dTrainable(xi as tf.Tensor4D, ki as tf.Tensor4D, c.s, c.pad)
        : tf.conv2d(xi as tf.Tensor4D, ki as tf.Tensor4D, c.s, c.pad);
      return tf.sum(tf.mul(y, tf.sin(tf.reshape(tf.range(0, y.size), y.shape))));
    };
    const [dx, dk] = tf.grads(f)([x, k]);
    return { dx: values(dx!), dk: values(dk!) };
  });

for (const c of CASES) {
  Conv(`x ${c.x}, kernel ${c.k}, strides ${c.s}, ${c.pad}`, async () => {
    await useBackend("cpu");
    const reference = grads(c, false);
    const cpu = grads(c, true);
    await useBackend("wasm");
    const wasm = grads(c, true);
    assert.ok(closeness(cpu.dk, reference.dk, 1e-5, 1e-5) <= 1, "kernel gradient (cpu)");
    assert.ok(closeness(cpu.dx, reference.dx, 1e-5, 1e-5) <= 1, "input gradient (cpu)");
    assert.ok(closeness(wasm.dk, reference.dk, 1e-4, 1e-5) <= 1, "kernel gradient (wasm)");
    assert.ok(closeness(wasm.dx, reference.dx, 1e-4, 1e-5) <= 1, "input gradient (wasm)");
  });
}

Conv.run();
