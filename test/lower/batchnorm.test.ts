// Batch normalization against the float64 PyTorch oracle (test/fixtures/bn_reference.json; see the README
// there), the Keras moving-average rule, a large epsilon that tells sqrt(var + eps) from sqrt(var) + eps,
// finite differences, center/scale off, and the batch-of-one guard.
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  batchNormInference,
  batchNormTraining,
  type BatchNormLayer,
  type BatchNormWeights,
} from "../../src/lower/batchnorm.ts";
import { updateMovingStatisticsInPlace } from "../../src/train/step.ts";
import { closeness, flat, useBackend, values } from "./helpers.ts";

interface Case {
  shape: number[];
  eps: number;
  x: unknown;
  gamma: number[];
  beta: number[];
  w: unknown;
  train: Record<string, unknown>;
  running_before: { mean: number[]; var: number[] };
  running_after_one_update: Record<"pytorch" | "keras", { mean: number[]; var: number[] }>;
  eval: Record<string, unknown>;
  nhwc?: Record<string, unknown>;
}
const ref = JSON.parse(readFileSync(new URL("../fixtures/bn_reference.json", import.meta.url), "utf8")) as {
  bn1d: Case;
  bn2d: Case;
};

const bnLayer = (o: Partial<BatchNormLayer> = {}): BatchNormLayer => ({
  op: "batchnorm",
  name: "batch_normalization",
  inputs: ["x"],
  momentum: 0.99,
  epsilon: 1e-3,
  center: true,
  scale: true,
  variance: "biased",
  ...o,
});

function weights(c: Case, o: { center?: boolean; scale?: boolean } = {}): BatchNormWeights {
  const w: BatchNormWeights = {
    movingMean: tf.variable(tf.tensor1d(c.running_before.mean)),
    movingVariance: tf.variable(tf.tensor1d(c.running_before.var)),
  };
  if (o.scale !== false) w.gamma = tf.variable(tf.tensor1d(c.gamma));
  if (o.center !== false) w.beta = tf.variable(tf.tensor1d(c.beta));
  return w;
}
const disposeWeights = (w: BatchNormWeights) =>
  [w.gamma, w.beta, w.movingMean, w.movingVariance].forEach((v) => v?.dispose());

/** The NHWC view of a case: bn1d as it is, bn2d through its NHWC copies. */
function nhwc(c: Case) {
  if (!c.nhwc)
    return {
      shape: c.shape,
      x: flat(c.x),
      w: flat(c.w),
      y: flat(c.train.y),
      dx: flat(c.train.dx),
      evalY: flat(c.eval.y),
      evalDx: flat(c.eval.dx),
    };
  const n = c.nhwc;
  return {
    shape: n.shape as number[],
    x: flat(n.x),
    w: flat(n.w),
    y: flat(n.train_y),
    dx: flat(n.train_dx),
    evalY: flat(n.eval_y),
    evalDx: flat(n.eval_dx),
  };
}

const BN = suite("batchnorm vs PyTorch float64");
BN.before(() => useBackend("wasm"));

for (const name of ["bn1d", "bn2d"] as const) {
  const c = ref[name];
  const v = nhwc(c);
  BN(`${name}: training output, batch mean and biased variance`, () => {
    const w = weights(c);
    tf.tidy(() => {
      const { y, stats } = batchNormTraining(tf.tensor(v.x, v.shape), w, bnLayer({ epsilon: c.eps }));
      assert.ok(closeness(values(y), v.y, 1e-4, 1e-5) <= 1, "y");
      assert.ok(closeness(values(stats.mean), flat(c.train.batch_mean)) <= 1, "mean");
      assert.ok(closeness(values(stats.variance), flat(c.train.batch_var_biased), 1e-5) <= 1, "variance");
    });
    disposeWeights(w);
  });

  BN(`${name}: gradients dx, dgamma, dbeta of sum(y * w) flow through the batch statistics`, () => {
    const w = weights(c);
    tf.tidy(() => {
      const wt = tf.tensor(v.w, v.shape);
      const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) =>
        tf.sum(
          tf.mul(
            batchNormTraining(
              x,
              { ...w, gamma: gamma as tf.Variable, beta: beta as tf.Variable },
              bnLayer({ epsilon: c.eps }),
            ).y,
            wt,
          ),
        );
      const [dx, dgamma, dbeta] = tf.grads(f)([tf.tensor(v.x, v.shape), w.gamma!, w.beta!]);
      assert.ok(closeness(values(dx!), v.dx, 1e-3, 1e-4) <= 1, "dx");
      assert.ok(closeness(values(dgamma!), flat(c.train.dgamma), 1e-4, 1e-4) <= 1, "dgamma");
      assert.ok(closeness(values(dbeta!), flat(c.train.dbeta), 1e-5, 1e-4) <= 1, "dbeta");
    });
    disposeWeights(w);
  });

  BN(`${name}: inference uses the moving statistics, never the batch`, () => {
    const w = weights(c);
    tf.tidy(() => {
      const x = tf.tensor(v.x, v.shape);
      assert.ok(
        closeness(values(batchNormInference(x, w, bnLayer({ epsilon: c.eps }))), v.evalY, 1e-4, 1e-5) <= 1,
      );
      const wt = tf.tensor(v.w, v.shape);
      const dx = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(batchNormInference(x, w, bnLayer({ epsilon: c.eps })), wt)),
      )(x);
      assert.ok(closeness(values(dx), v.evalDx, 1e-4, 1e-5) <= 1, "eval dx");
    });
    disposeWeights(w);
  });

  BN(`${name}: moving statistics, Keras rule (momentum 0.99, biased variance)`, () => {
    const w = weights(c);
    const layer = bnLayer({ epsilon: c.eps });
    updateMoving(w, layer, () => tf.tensor(v.x, v.shape));
    const keras = c.running_after_one_update.keras;
    assert.ok(closeness(values(w.movingMean), keras.mean) <= 1, "moving mean");
    assert.ok(closeness(values(w.movingVariance), keras.var) <= 1, "moving variance");
    disposeWeights(w);
  });

  BN(`${name}: variance "unbiased" with Keras momentum 0.9 equals PyTorch's momentum 0.1`, () => {
    const w = weights(c);
    const layer = bnLayer({ epsilon: c.eps, momentum: 0.9, variance: "unbiased" });
    updateMoving(w, layer, () => tf.tensor(v.x, v.shape));
    const torch = c.running_after_one_update.pytorch;
    assert.ok(closeness(values(w.movingMean), torch.mean) <= 1, "running mean");
    assert.ok(closeness(values(w.movingVariance), torch.var) <= 1, "running var");
    disposeWeights(w);
  });
}

/** One moving-average update from the batch `x`, as the trainer runs it (the rule: nextMovingStatistics). */
function updateMoving(w: BatchNormWeights, layer: BatchNormLayer, x: () => tf.Tensor): void {
  tf.tidy(() => {
    const { stats } = batchNormTraining(x(), w, layer);
    updateMovingStatisticsInPlace([{ node: { index: 0, layer, weights: w }, stats }]);
  });
}

const Formula = suite("batchnorm formula");
Formula.before(() => useBackend("wasm"));

// x per channel: [0, 1, 2, 3] and [1, 1, 1, 5]; eps = 4 is of the order of the variances, so
// sqrt(var + eps) and sqrt(var) + eps give far apart outputs.
const X = [0, 1, 1, 1, 2, 1, 3, 5];
const expected = (
  sqrtRule: (v: number, e: number) => number,
  eps: number,
  gamma = [2, 0.5],
  beta = [1, -1],
) => {
  const out: number[] = [];
  const stats = [0, 1].map((ch) => {
    const col = [0, 1, 2, 3].map((i) => X[i * 2 + ch]!);
    const mean = col.reduce((a, b) => a + b) / 4;
    return { mean, variance: col.reduce((a, b) => a + (b - mean) ** 2, 0) / 4 };
  });
  for (let i = 0; i < 4; i++)
    for (let ch = 0; ch < 2; ch++) {
      const s = stats[ch]!;
      out.push((gamma[ch]! * (X[i * 2 + ch]! - s.mean)) / sqrtRule(s.variance, eps) + beta[ch]!);
    }
  return out;
};

Formula("a large epsilon: y = gamma (x - mean) / sqrt(var + eps) + beta, not sqrt(var) + eps", () => {
  const eps = 4;
  const w: BatchNormWeights = {
    gamma: tf.variable(tf.tensor1d([2, 0.5])),
    beta: tf.variable(tf.tensor1d([1, -1])),
    movingMean: tf.variable(tf.zeros([2])),
    movingVariance: tf.variable(tf.ones([2])),
  };
  const y = tf.tidy(() => values(batchNormTraining(tf.tensor2d(X, [4, 2]), w, bnLayer({ epsilon: eps })).y));
  const right = expected((v, e) => Math.sqrt(v + e), eps);
  const wrong = expected((v, e) => Math.sqrt(v) + e, eps);
  assert.ok(closeness(y, right) <= 1, `${y} vs ${right}`);
  assert.ok(closeness(y, wrong, 1e-2) > 1, "must differ from sqrt(var) + eps");
  disposeWeights(w);
});

Formula(
  "center=false and scale=false drop beta and gamma in training and inference (tfjs issue 2868)",
  () => {
    const w: BatchNormWeights = {
      movingMean: tf.variable(tf.tensor1d([1, 2])),
      movingVariance: tf.variable(tf.tensor1d([4, 9])),
    };
    const layer = bnLayer({ center: false, scale: false, epsilon: 4 });
    tf.tidy(() => {
      const x = tf.tensor2d(X, [4, 2]);
      const y = values(batchNormTraining(x, w, layer).y);
      assert.ok(
        closeness(
          y,
          expected((v, e) => Math.sqrt(v + e), 4, [1, 1], [0, 0]),
        ) <= 1,
      );
      const dx = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(batchNormTraining(x, w, layer).y, tf.reshape(tf.range(0, 8), [4, 2]))),
      )(x);
      assert.ok(values(dx).every(Number.isFinite));
      const inf = values(batchNormInference(x, w, layer));
      assert.ok(
        closeness(
          inf,
          X.map((v, i) => (v - [1, 2][i % 2]!) / Math.sqrt([4, 9][i % 2]! + 4)),
        ) <= 1,
      );
    });
    disposeWeights(w);
  },
);

Formula("gradients match central finite differences", async () => {
  await useBackend("cpu");
  try {
    const w: BatchNormWeights = {
      gamma: tf.variable(tf.tensor1d([1.5, 0.7, 1])),
      beta: tf.variable(tf.tensor1d([0.1, -0.2, 0.3])),
      movingMean: tf.variable(tf.zeros([3])),
      movingVariance: tf.variable(tf.ones([3])),
    };
    const xs = Array.from({ length: 18 }, (_, i) => Math.sin(i * 1.7) * 2 + (i % 3));
    const wt = tf.tensor2d(
      Array.from({ length: 18 }, (_, i) => Math.cos(i * 0.9)),
      [6, 3],
    );
    const layer = bnLayer({ epsilon: 0.01 });
    const f = (x: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(x, w, layer).y, wt));
    const dx = tf.tidy(() => values(tf.grad(f)(tf.tensor2d(xs, [6, 3]))));
    const h = 1e-2;
    const fd = xs.map((_, i) =>
      tf.tidy(() => {
        const plus = [...xs];
        const minus = [...xs];
        plus[i]! += h;
        minus[i]! -= h;
        return (
          (f(tf.tensor2d(plus, [6, 3])).dataSync()[0]! - f(tf.tensor2d(minus, [6, 3])).dataSync()[0]!) /
          (2 * h)
        );
      }),
    );
    assert.ok(closeness(dx, fd, 2e-2, 2e-3) <= 1, `${dx} vs ${fd}`);
    disposeWeights(w);
  } finally {
    await useBackend("wasm");
  }
});

Formula("a batch of one value per channel is never normalized", () => {
  const w: BatchNormWeights = {
    movingMean: tf.variable(tf.zeros([2])),
    movingVariance: tf.variable(tf.ones([2])),
  };
  assert.throws(
    () => tf.tidy(() => batchNormTraining(tf.tensor2d([1, 2], [1, 2]), w, bnLayer()).y),
    /batch of one/,
  );
  // One sample of a 2x2 image has four values per channel: that is normalizable.
  tf.tidy(() => batchNormTraining(tf.ones([1, 2, 2, 2]), w, bnLayer()).y);
  disposeWeights(w);
});

BN(
  "inference outside a gradient tape (one SIMD pass on wasm, channels a multiple of 4) equals the tf ops",
  () => {
    const channels = 8;
    const rng = (i: number) => Math.sin(i * 12.9898) * 2;
    const vec = (k: number) => tf.tensor1d(Array.from({ length: channels }, (_, i) => rng(i + k * 100)));
    const w: BatchNormWeights = {
      movingMean: tf.variable(vec(1)),
      movingVariance: tf.variable(tf.abs(vec(2))),
      gamma: tf.variable(vec(3)),
      beta: tf.variable(vec(4)),
    };
    tf.tidy(() => {
      const x = tf.tensor(
        Array.from({ length: 3 * 5 * 5 * channels }, (_, i) => rng(i)),
        [3, 5, 5, channels],
      );
      const layer = bnLayer({ epsilon: 1e-3 });
      const outside = values(batchNormInference(x, w, layer));
      // Under a tape the tf ops (they have gradients); the value is taken from inside tf.grad's function.
      let inside: number[] = [];
      tf.grad((t: tf.Tensor) => {
        const y = batchNormInference(t, w, layer);
        inside = values(y);
        return tf.sum(y);
      })(x);
      assert.equal(outside, inside);
    });
    disposeWeights(w);
  },
);

BN.run();
Formula.run();
