// Op `spatial_dropout` (Keras SpatialDropout2D / 1D) through every phase (test/ops/shape-cases.ts: tfjs-layers'
// own layer, export parity, compiled step against autograd, two threads, import, ONNX, formatter), and its own
// semantics: inert at inference; in training each sample keeps or drops a channel at every position at once, at
// the rate asked, scaled by 1 / (1 - rate), from a seeded stream (same stream, same mask).
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import * as assert from "uvu/assert";
import { importKeras } from "../../src/import/import.ts";
import { Network } from "../../src/lower/network.ts";
import { Random } from "../../src/util/random.ts";
import { closeness, program, useBackend, values } from "../lower/helpers.ts";
import { assertKerasParity } from "./parity.ts";
import { shapeSuite } from "./shape-cases.ts";

const S = shapeSuite({
  op: "spatial_dropout",
  uses: [
    {
      statement: "spatial_dropout 0.3",
      input: [5, 4, 3],
      // tfjs-layers' Dropout with SpatialDropout2D's noise shape: the layer nnc's export is.
      layer: () => tfl.layers.dropout({ rate: 0.3, noiseShape: [null, 1, 1, null] as unknown as number[] }),
    },
  ],
  errors: [
    ["input 8\nspatial_dropout 0.2\ndense 2", "E302"],
    ["input 4x4x2\nspatial_dropout 1\nflatten\ndense 2", "E206"],
  ],
});

/** spatial_dropout's output in training over `x` from stream `seed`. */
function trained(source: string, x: tf.Tensor, seed: number): number[] {
  const net = new Network(program(source).models[0]!, 1);
  try {
    return tf.tidy(() =>
      values(net.forward(x, { training: true, dropoutRng: (l) => new Random(seed).fork(l) })),
    );
  } finally {
    net.dispose();
  }
}

S("inert at inference; in training whole channels dropped at the rate, seeded", async () => {
  await useBackend("wasm");
  const [n, h, w, c] = [64, 3, 4, 8];
  const source = `input ${h}x${w}x${c}\nspatial_dropout 0.25`;
  const rng = new Random(2);
  const x = tf.tensor(
    Float32Array.from({ length: n * h * w * c }, () => 1 + rng.next()),
    [n, h, w, c],
  );
  const net = new Network(program(source).models[0]!, 1);
  assert.equal(
    tf.tidy(() => values(net.forward(x, { training: false }))),
    values(x),
  );
  net.dispose();
  const a = trained(source, x, 1);
  assert.equal(trained(source, x, 1), a, "same stream, same mask");
  assert.not.equal(trained(source, x, 2), a, "another stream, another mask");
  const xs = values(x);
  let dropped = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      // Every position of (sample, channel) shares one factor: 0 or 1 / (1 - 0.25).
      const factors = new Set<number>();
      for (let p = 0; p < h * w; p++) {
        const i = (b * h * w + p) * c + ch;
        factors.add(Math.round((a[i]! / xs[i]!) * 1e4) / 1e4);
      }
      assert.is(factors.size, 1, `sample ${b} channel ${ch}: ${[...factors]}`);
      const [f] = [...factors];
      assert.ok(f === 0 || Math.abs(f! - 4 / 3) < 1e-3, `factor ${f}`);
      if (f === 0) dropped++;
    }
  }
  // 512 Bernoulli(0.25) draws: mean 128, sd 9.8; four sd either side.
  assert.ok(dropped > 128 - 40 && dropped < 128 + 40, `dropped ${dropped} of ${n * c}`);
  tf.dispose(x);
});

S("rank 3 ([batch, steps, channels]): SpatialDropout1D's mask, parity with tfjs-layers", async () => {
  await useBackend("wasm");
  const source = "input 6x4\nspatial_dropout 0.5";
  const rng = new Random(3);
  const x = tf.tensor(
    Float32Array.from({ length: 10 * 24 }, () => 1 + rng.next()),
    [10, 6, 4],
  );
  const a = trained(source, x, 4);
  const xs = values(x);
  for (let b = 0; b < 10; b++)
    for (let ch = 0; ch < 4; ch++) {
      const kept = Array.from({ length: 6 }, (_, s) => a[(b * 6 + s) * 4 + ch]! !== 0);
      assert.ok(
        kept.every((k) => k === kept[0]),
        `sample ${b} channel ${ch}`,
      );
      if (kept[0]) assert.ok(Math.abs(a[b * 24 + ch]! - 2 * xs[b * 24 + ch]!) < 1e-5);
    }
  tf.dispose(x);
  await assertKerasParity("input 6x4\nspatial_dropout 0.5\nflatten\ndense 5 relu\ndense 3 softmax");
  const own = tfl.layers.spatialDropout1d({ rate: 0.5 });
  const out = own.apply(tfl.input({ shape: [6, 4] })) as tfl.SymbolicTensor;
  assert.equal(program(source).models[0]!.layers[1]!.outputShape, out.shape);
});

S("nnc import reads Keras' SpatialDropout2D and SpatialDropout1D", async () => {
  const layer = (className: string, extra: object) => ({
    class_name: className,
    config: { name: "sd", trainable: true, dtype: "float32", rate: 0.2, ...extra },
  });
  for (const [className, extra, input] of [
    ["SpatialDropout2D", { data_format: "channels_last" }, [null, 4, 4, 2]],
    ["SpatialDropout1D", {}, [null, 5, 3]],
  ] as const) {
    const json = {
      format: "layers-model",
      modelTopology: {
        class_name: "Sequential",
        config: {
          name: "m",
          layers: [
            { class_name: "InputLayer", config: { batch_input_shape: input, dtype: "float32", name: "in" } },
            layer(className, extra),
            { class_name: "Flatten", config: { name: "f", trainable: true, dtype: "float32" } },
            {
              class_name: "Dense",
              config: { name: "d", trainable: true, dtype: "float32", units: 2, activation: "softmax" },
            },
          ],
        },
      },
    };
    const r = await importKeras(JSON.stringify(json), { filename: "model.json" });
    assert.ok(r.ok, r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
    assert.match(r.text!, "spatial_dropout 0.2", className);
  }
});

S("a gradient flows through the kept channels only", async () => {
  await useBackend("wasm");
  const p = program("input 2x2x6\nspatial_dropout 0.5");
  const net = new Network(p.models[0]!, 1);
  const x = tf.ones([3, 2, 2, 6]);
  const rng = () => new Random(7).fork("g");
  const y = values(tf.tidy(() => net.forward(x, { training: true, dropoutRng: rng })));
  const g = tf.grad((t: tf.Tensor) => tf.sum(net.forward(t, { training: true, dropoutRng: rng })))(x);
  assert.ok(closeness(values(g), y, 1e-6, 1e-7) <= 1, "d sum(y) / dx is the mask");
  tf.dispose([x, g]);
  net.dispose();
});

S.run();
