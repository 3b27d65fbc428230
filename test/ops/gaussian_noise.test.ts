// Op `gaussian_noise` (Keras GaussianNoise) through every phase (test/ops/shape-cases.ts: tfjs-layers' own layer,
// export parity, compiled step against autograd, two threads, import, ONNX, formatter), and its own semantics:
// inert at inference; in training x + N(0, stddev^2) per value from a seeded stream (same stream, same noise).
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import * as assert from "uvu/assert";
import { Network } from "../../src/lower/network.ts";
import { Random } from "../../src/util/random.ts";
import { program, useBackend, values } from "../lower/helpers.ts";
import { shapeSuite } from "./shape-cases.ts";

const S = shapeSuite({
  op: "gaussian_noise",
  uses: [
    {
      statement: "gaussian_noise 0.5",
      input: [4, 4, 2],
      layer: () => tfl.layers.gaussianNoise({ stddev: 0.5 }),
    },
  ],
  errors: [
    ["input 4\ngaussian_noise -1\ndense 2", "E206"],
    ["input 4\ngaussian_noise\ndense 2", "E203"],
  ],
});

S("inert at inference; in training noise of mean 0 and sd STDDEV, seeded", async () => {
  await useBackend("wasm");
  const source = "input 50\ngaussian_noise 0.3";
  const net = new Network(program(source).models[0]!, 1);
  const rng = new Random(5);
  const x = tf.tensor(
    Float32Array.from({ length: 40 * 50 }, () => rng.normal()),
    [40, 50],
  );
  const run = (seed: number) =>
    tf.tidy(() => values(net.forward(x, { training: true, dropoutRng: (l) => new Random(seed).fork(l) })));
  assert.equal(
    tf.tidy(() => values(net.forward(x, { training: false }))),
    values(x),
  );
  const a = run(1);
  assert.equal(run(1), a, "same stream, same noise");
  assert.not.equal(run(2), a, "another stream, other noise");
  const xs = values(x);
  const noise = a.map((v, i) => v - xs[i]!);
  const mean = noise.reduce((s, v) => s + v, 0) / noise.length;
  const sd = Math.sqrt(noise.reduce((s, v) => s + (v - mean) ** 2, 0) / (noise.length - 1));
  // 2,000 draws: the mean's sd is 0.3 / sqrt(2000) = 0.0067, the sd's about 0.3 / sqrt(4000) = 0.0047.
  assert.ok(Math.abs(mean) < 0.027, `mean ${mean}`);
  assert.ok(Math.abs(sd - 0.3) < 0.02, `sd ${sd}`);
  tf.dispose(x);
  net.dispose();
});

S.run();
