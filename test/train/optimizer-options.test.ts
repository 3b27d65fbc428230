// Weight decay, AdamW and gradient clipping (src/train/optimizers.ts) against a float64 reference written here
// from Keras 3's source, over several steps, on wasm (the SIMD Adam kernel) and cpu (the JS rules); clipping
// against numbers worked by hand; batchnorm's moving statistics are never decayed.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Optimizer as OptimizerSpec } from "../../src/ir/schema.ts";
import { Network } from "../../src/lower/network.ts";
import { createOptimizer, gradientScales } from "../../src/train/optimizers.ts";
import { Random } from "../../src/util/random.ts";
import { closeness, program, useBackend, values } from "../lower/helpers.ts";

/**
 * One step of Keras 3 in float64, as keras/src/optimizers/base_optimizer.py `_backend_apply_gradients` runs it:
 *   1. grads = _clip_gradients(grads): clipnorm: g * c / max(|g|, c) per weight (_clip_by_norm);
 *      global_clipnorm: every g * c * min(1 / |G|, 1 / c), |G| the norm of all gradients (clip_by_global_norm);
 *      clipvalue: clip(g, -v, v).
 *   2. _apply_weight_decay: w = w - w * weight_decay * lr, every trainable variable.
 *   3. the update (keras/src/optimizers/adam.py, sgd.py, rmsprop.py):
 *      adam/adamw: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); alpha = lr sqrt(1 - b2^t) / (1 - b1^t);
 *                  w -= alpha m / (sqrt(v) + eps)   (adamw.py: Adam with weight_decay, default 0.004)
 *      sgd: m = momentum m - lr g; w += m (w -= lr g without momentum)
 *      rmsprop: v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps)
 */
function kerasStep(spec: OptimizerSpec, w: number[][], g0: number[][], slots: number[][][], t: number) {
  const norm = (g: number[]) => Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  let g = g0.map((x) => [...x]);
  if (spec.clipnorm !== undefined) {
    const c = spec.clipnorm;
    g = g.map((x) => x.map((v) => (v * c) / Math.max(norm(x), c)));
  } else if (spec.globalClipnorm !== undefined) {
    const c = spec.globalClipnorm;
    const all = Math.sqrt(g.reduce((s, x) => s + norm(x) ** 2, 0));
    g = g.map((x) => x.map((v) => v * c * Math.min(1 / all, 1 / c)));
  } else if (spec.clipvalue !== undefined) {
    const c = spec.clipvalue;
    g = g.map((x) => x.map((v) => Math.min(Math.max(v, -c), c)));
  }
  const wd = spec.weightDecay;
  if (wd !== undefined) w = w.map((x) => x.map((v) => v - v * wd * spec.lr));
  return w.map((wi, i) =>
    wi.map((v, j) => {
      const gj = g[i]![j]!;
      const s = slots[i]!;
      switch (spec.type) {
        case "adam":
        case "adamw": {
          s[0]![j] = s[0]![j]! + (gj - s[0]![j]!) * (1 - spec.beta1);
          s[1]![j] = s[1]![j]! + (gj * gj - s[1]![j]!) * (1 - spec.beta2);
          const alpha = (spec.lr * Math.sqrt(1 - spec.beta2 ** t)) / (1 - spec.beta1 ** t);
          return v - (alpha * s[0]![j]!) / (Math.sqrt(s[1]![j]!) + spec.epsilon);
        }
        case "sgd": {
          if (spec.momentum === 0) return v - spec.lr * gj;
          s[0]![j] = spec.momentum * s[0]![j]! - spec.lr * gj;
          return v + s[0]![j]!;
        }
        case "rmsprop": {
          s[0]![j] = spec.rho * s[0]![j]! + (1 - spec.rho) * gj * gj;
          return v - (spec.lr * gj) / Math.sqrt(s[0]![j]! + spec.epsilon);
        }
      }
    }),
  );
}

const SPECS: OptimizerSpec[] = [
  { type: "adamw", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.004 },
  { type: "adamw", lr: 0.05, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.5, clipnorm: 0.3 },
  { type: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.1, globalClipnorm: 0.5 },
  { type: "adam", lr: 0.02, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, clipvalue: 0.2 },
  { type: "sgd", lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0.01, clipnorm: 0.4 },
  { type: "sgd", lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0.3, clipvalue: 0.5 },
  { type: "rmsprop", lr: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7, weightDecay: 0.05, globalClipnorm: 1 },
];

const Reference = suite("weight decay and clipping against Keras 3 in float64");

for (const backend of ["wasm", "cpu"] as const) {
  for (const spec of SPECS) {
    const { type, lr: _lr, beta1: _b1, ...rest } = spec as Record<string, unknown>;
    Reference(`${backend}: ${type} ${JSON.stringify(rest)}, 5 steps`, async () => {
      await useBackend(backend);
      const net = new Network(program("input 5; dense 4 relu; dense 3 softmax").models[0]!, 3);
      const opt = createOptimizer(spec, net.trainable);
      const rng = new Random(11);
      let w = net.trainable.map((e) => values(e.variable));
      const kinds =
        spec.type === "adam" || spec.type === "adamw"
          ? 2
          : spec.type === "sgd" && spec.momentum === 0
            ? 0
            : 1;
      const slots = w.map((x) => Array.from({ length: kinds }, () => x.map(() => 0)));
      for (let t = 1; t <= 5; t++) {
        // Gradients large enough that every clipping rule bites on some weights.
        const g = w.map((x) => x.map(() => rng.normal() * 0.5));
        tf.tidy(() =>
          opt.apply(
            Object.fromEntries(
              net.trainable.map((e, i) => [e.name, tf.tensor(g[i]!, e.variable.shape, "float32")]),
            ),
          ),
        );
        w = kerasStep(spec, w, g, slots, t);
      }
      for (const [i, e] of net.trainable.entries()) {
        const got = values(e.variable);
        assert.ok(
          closeness(got, w[i]!, 1e-5, 1e-6) <= 1,
          `${e.name}: ${got.slice(0, 3)} vs ${w[i]!.slice(0, 3)}`,
        );
      }
      opt.dispose();
      net.dispose();
    });
  }
}

Reference("weight decay moves the weights where plain Adam would not (the test can fail)", async () => {
  await useBackend("wasm");
  const run = (spec: OptimizerSpec) => {
    const net = new Network(program("input 3; dense 2").models[0]!, 1);
    const opt = createOptimizer(spec, net.trainable);
    const zero = Object.fromEntries(net.trainable.map((e) => [e.name, tf.zerosLike(e.variable)]));
    opt.apply(zero);
    const out = values(net.trainable[0]!.variable);
    tf.dispose(Object.values(zero));
    opt.dispose();
    const before = values(new Network(program("input 3; dense 2").models[0]!, 1).trainable[0]!.variable);
    net.dispose();
    return { out, before };
  };
  const plain = run({ type: "adam", lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  const decayed = run({ type: "adamw", lr: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.5 });
  assert.equal(plain.out, plain.before, "zero gradients leave Adam's weights alone");
  // w (1 - 0.1 x 0.5) = 0.95 w, in float32
  assert.ok(
    closeness(
      decayed.out,
      plain.before.map((v) => 0.95 * v),
      1e-6,
      1e-8,
    ) <= 1,
  );
});

const Hand = suite("clipping, worked by hand");

Hand("clipnorm, global_clipnorm and clipvalue factors", () => {
  const g = [Float32Array.of(3, 4), Float32Array.of(12)];
  const base = { type: "sgd", lr: 1, momentum: 0, nesterov: false } as const;
  // |g1| = 5, |g2| = 12: clipnorm 6 leaves g1 (5 <= 6) and scales g2 by 6/12.
  assert.equal(gradientScales({ ...base, clipnorm: 6 }, g), [1, 0.5]);
  // |G| = sqrt(25 + 144) = 13: global_clipnorm 2.6 scales both by 0.2; 26 leaves both.
  const [s1, s2] = gradientScales({ ...base, globalClipnorm: 2.6 }, g)!;
  assert.ok(Math.abs(s1! - 0.2) < 1e-15 && s1 === s2);
  assert.equal(gradientScales({ ...base, globalClipnorm: 26 }, g), [1, 1]);
  // A zero gradient: no division by zero (Keras' l2sum > 0 guard), nothing to scale.
  assert.equal(gradientScales({ ...base, clipnorm: 1 }, [Float32Array.of(0, 0)]), [1]);
  // A non-finite norm makes global clipping NaN, as Keras' `scale + (norm - norm)` does.
  assert.ok(Number.isNaN(gradientScales({ ...base, globalClipnorm: 1 }, [Float32Array.of(Infinity)])![0]));
  assert.is(gradientScales({ ...base, clipvalue: 1 }, g), undefined);
});

Hand("sgd lr=1 applies the clipped gradient itself: g1 = [3, 4] at clipnorm 1 is [0.6, 0.8]", async () => {
  for (const backend of ["wasm", "cpu"] as const) {
    await useBackend(backend);
    for (const [option, want] of [
      [{ clipnorm: 1 }, [-0.6, -0.8]],
      [{ globalClipnorm: 1 }, [-0.6, -0.8]],
      [{ clipvalue: 3.5 }, [-3, -3.5]],
    ] as const) {
      const v = tf.variable(tf.zeros([2]));
      const opt = createOptimizer({ type: "sgd", lr: 1, momentum: 0, nesterov: false, ...option }, [
        { name: "w", variable: v, trainable: true } as never,
      ]);
      tf.tidy(() => opt.apply({ w: tf.tensor1d([3, 4]) }));
      assert.ok(
        closeness(values(v), want, 1e-6, 1e-7) <= 1,
        `${backend} ${JSON.stringify(option)}: ${values(v)}`,
      );
      opt.dispose();
      v.dispose();
    }
  }
});

Hand(
  "every trainable variable decays (batchnorm's gamma and beta too), its moving statistics do not",
  async () => {
    await useBackend("wasm");
    const net = new Network(program("input 3; dense 4; batchnorm; dense 2 softmax").models[0]!, 4);
    // Give every weight a value of its own, so that decay shows on gamma (ones) and beta (zeros) as on kernels.
    for (const e of net.weights) tf.tidy(() => e.variable.assign(tf.add(e.variable, 0.5)));
    const before = Object.fromEntries(net.weights.map((e) => [e.name, values(e.variable)]));
    const opt = createOptimizer(
      { type: "sgd", lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0.2 },
      net.trainable,
    );
    const zero = Object.fromEntries(net.trainable.map((e) => [e.name, tf.zerosLike(e.variable)]));
    opt.apply(zero);
    tf.dispose(Object.values(zero));
    const trainable = new Set(net.trainable.map((e) => e.name));
    assert.ok(trainable.has("batch_normalization/gamma") && trainable.has("batch_normalization/beta"));
    for (const e of net.weights) {
      const want = trainable.has(e.name) ? before[e.name]!.map((v) => v * (1 - 0.1 * 0.2)) : before[e.name]!;
      assert.ok(closeness(values(e.variable), want, 1e-6, 1e-8) <= 1, e.name);
    }
    assert.ok(
      net.weights.some((e) => !trainable.has(e.name)),
      "the model has moving statistics",
    );
    opt.dispose();
    net.dispose();
  },
);

Reference.run();
Hand.run();
