// Lowering: Keras weight names and shapes, parameter counts equal the checker's, output shapes of every op,
// seeded Keras initializers (bounds, spread, per-name streams, train.init override), dropout in training only,
// and losses computed from logits.
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { NncError } from "../../src/diagnostics/index.ts";
import { distribution } from "../../src/lower/initializers.ts";
import { outputActivation } from "../../src/ir/loss-rules.ts";
import { lowerLoss, modelLoss } from "../../src/lower/loss.ts";
import { buildModel } from "../../src/lower/model.ts";
import { Network } from "../../src/lower/network.ts";
import { Random } from "../../src/util/random.ts";
import { closeness, program, useBackend, values } from "./helpers.ts";

const CONVNET = `input 12x12x1
conv2d 4 3x3 padding=same
batchnorm
relu
maxpool 2x2
conv2d 6 3x3
avgpool 2x2
layernorm
globalavgpool
dense 8 gelu
dropout 0.5
dense 3 softmax`;

const Shapes = suite("lowered shapes and weights");
Shapes.before(() => useBackend("wasm"));

Shapes("every layer's output shape equals the checker's, in both modes", () => {
  const p = program(CONVNET);
  const net = new Network(p.models[0]!, 1);
  tf.tidy(() => {
    const x = tf.randomUniform([5, 12, 12, 1], 0, 1, "float32", 3);
    p.models[0]!.layers.forEach((layer, i) => {
      const expected = [5, ...(layer.outputShape!.slice(1) as number[])];
      for (const training of [false, true]) {
        const y = net.forward(x, {
          training,
          stop: i + 1,
          bnStats: [],
          dropoutRng: () => new Random(1).fork("t"),
        });
        assert.equal(y.shape, expected, `${layer.name} (${training ? "training" : "inference"})`);
      }
    });
  });
  net.dispose();
});

Shapes("Keras weight names and shapes; counts equal the checker's params", () => {
  const p = program(CONVNET);
  const net = new Network(p.models[0]!, 1);
  const shapes = Object.fromEntries(net.weights.map((w) => [w.name, w.variable.shape]));
  assert.equal(shapes["conv2d/kernel"], [3, 3, 1, 4]);
  assert.equal(shapes["conv2d/bias"], [4]);
  assert.equal(shapes["batch_normalization/moving_variance"], [4]);
  assert.equal(shapes["conv2d_1/kernel"], [3, 3, 4, 6]);
  assert.equal(shapes["layer_normalization/gamma"], [6]);
  assert.equal(shapes["dense/kernel"], [6, 8]);
  assert.equal(shapes["dense_1/kernel"], [8, 3]);
  for (const layer of p.models[0]!.layers) {
    const mine = net.weights.filter((w) => w.name.startsWith(`${layer.name}/`));
    const count = (trainable: boolean) =>
      mine.filter((w) => w.trainable === trainable).reduce((a, w) => a + w.variable.size, 0);
    assert.equal(count(true), layer.params!.trainable, `${layer.name} trainable`);
    assert.equal(count(false), layer.params!.nonTrainable, `${layer.name} non-trainable`);
  }
  net.dispose();
});

Shapes("batchnorm center=false scale=false has no beta/gamma, and trains", () => {
  const p = program("input 3; dense 4; batchnorm center=false scale=false; relu; dense 2 softmax");
  const net = new Network(p.models[0]!, 1);
  assert.equal(
    net.weights.filter((w) => w.name.startsWith("batch_normalization/")).map((w) => w.name),
    ["batch_normalization/moving_mean", "batch_normalization/moving_variance"],
  );
  const loss = lowerLoss(net, p.train.loss);
  const g = tf.tidy(() => {
    const { grads } = tf.variableGrads(
      () =>
        loss.compute(
          net.forward(tf.tensor2d([1, 2, 3, 4, 5, 7], [2, 3]), {
            training: true,
            bnStats: [],
            logits: loss.logits,
          }),
          tf.tensor1d([0, 1], "int32"),
        ).loss,
    );
    return Object.values(grads).every((t) => values(t).every(Number.isFinite));
  });
  assert.ok(g);
  net.dispose();
});

const Init = suite("seeded Keras initializers");
Init.before(() => useBackend("wasm"));

Init("Keras formulas: glorot uniform limit, truncated normal stddev, conv fans with receptive field", () => {
  const g = distribution({ name: "glorot_uniform", scale: 1 }, [784, 128]);
  assert.equal(g, { kind: "uniform", limit: Math.sqrt(6 / (784 + 128)) });
  const conv = distribution({ name: "he_normal", scale: 2 }, [3, 3, 4, 8]);
  assert.equal(conv, {
    kind: "normal",
    stddev: (2 * Math.sqrt(2 / 36)) / 0.87962566103423978,
    truncated: true,
  });
  assert.equal(distribution({ name: "glorot_normal", scale: 1 }, [10, 30]), {
    kind: "normal",
    stddev: Math.sqrt(2 / 40) / 0.87962566103423978,
    truncated: true,
  });
  assert.equal(distribution({ name: "random_uniform", scale: 3 }, [5, 5]), {
    kind: "uniform",
    limit: 0.15000000000000002,
  });
  assert.equal(distribution({ name: "random_normal", scale: 1 }, [5, 5]), {
    kind: "normal",
    stddev: 0.05,
    truncated: false,
  });
  assert.equal(distribution({ name: "lecun_uniform", scale: 1 }, [12, 5]), { kind: "uniform", limit: 0.5 });
});

Init("drawn values: within the limit, spread as specified, zero biases, gamma 1, moving variance 1", () => {
  const p = program("input 400; dense 300; batchnorm; dense 200 init=he_normal; dense 2 softmax");
  const net = new Network(p.models[0]!, 5);
  const k = values(net.weight("dense/kernel")!.variable);
  const limit = Math.sqrt(6 / 700);
  assert.ok(k.every((v) => Math.abs(v) <= limit));
  assert.ok(Math.max(...k.map(Math.abs)) > 0.99 * limit, "uniform fills its range");
  const he = values(net.weight("dense_1/kernel")!.variable);
  const std = Math.sqrt(he.reduce((a, v) => a + v * v, 0) / he.length);
  assert.ok(Math.abs(std - Math.sqrt(2 / 300)) < 0.03 * Math.sqrt(2 / 300), `he_normal stddev ${std}`);
  assert.ok(
    he.every((v) => Math.abs(v) <= (2 * Math.sqrt(2 / 300)) / 0.87962566103423978 + 1e-6),
    "truncated at 2 sd",
  );
  assert.ok(values(net.weight("dense/bias")!.variable).every((v) => v === 0));
  assert.ok(values(net.weight("batch_normalization/gamma")!.variable).every((v) => v === 1));
  assert.ok(values(net.weight("batch_normalization/moving_variance")!.variable).every((v) => v === 1));
  assert.ok(values(net.weight("batch_normalization/moving_mean")!.variable).every((v) => v === 0));
  net.dispose();
});

Init("same seed, same weights; another seed, others; a weight's values do not depend on other layers", () => {
  const a = new Network(program("input 6; dense 5; dense 3 softmax").models[0]!, 11);
  const b = new Network(program("input 6; dense 5; dense 3 softmax").models[0]!, 11);
  const c = new Network(program("input 6; dense 5; dense 3 softmax").models[0]!, 12);
  const d = new Network(program("input 6; dense 5; batchnorm; relu; dense 3 softmax").models[0]!, 11);
  const k = (n: Network, name: string) => values(n.weight(name)!.variable);
  assert.equal(k(a, "dense/kernel"), k(b, "dense/kernel"));
  assert.equal(k(a, "dense_1/kernel"), k(b, "dense_1/kernel"));
  assert.not.equal(k(a, "dense/kernel"), k(c, "dense/kernel"));
  assert.equal(k(a, "dense_1/kernel"), k(d, "dense_1/kernel"));
  [a, b, c, d].forEach((n) => n.dispose());
});

Init("train.init overrides every kernel's initializer", () => {
  const p = program("input 50; dense 40; dense 3 softmax\ntrain { data mnist\n init zeros }");
  assert.equal(p.train.init?.name, "zeros");
  const m = buildModel(p, { backend: "wasm" });
  const w = m.getWeights();
  assert.ok(values(w["dense/kernel"]!).every((v) => v === 0));
  assert.ok(values(w["dense_1/kernel"]!).every((v) => v === 0));
  m.dispose();
});

const Modes = suite("training and inference modes, losses");
Modes.before(() => useBackend("wasm"));

Modes("dropout only in training; its mask comes from the given stream", () => {
  const p = program("input 200; dropout 0.5");
  const net = new Network(p.models[0]!, 1);
  tf.tidy(() => {
    const x = tf.ones([2, 200]);
    assert.equal(values(net.forward(x, { training: false })), values(x));
    const a = values(net.forward(x, { training: true, dropoutRng: () => new Random(1).fork("s") }));
    const b = values(net.forward(x, { training: true, dropoutRng: () => new Random(1).fork("s") }));
    assert.equal(a, b, "same stream, same mask");
    assert.ok(
      a.every((v) => v === 0 || v === 2),
      "inverted dropout scales kept units by 1/(1-rate)",
    );
    const dropped = a.filter((v) => v === 0).length / a.length;
    assert.ok(dropped > 0.4 && dropped < 0.6, `dropped ${dropped}`);
  });
  net.dispose();
});

Modes("softmax output: cross-entropy from the logits, stable where probabilities would underflow", () => {
  const p = program("input 2; dense 3 softmax");
  const net = new Network(p.models[0]!, 1);
  const loss = lowerLoss(net, p.train.loss);
  assert.ok(loss.logits, "asks for logits");
  tf.tidy(() => {
    const logits = tf.tensor2d([1, 2, 3, 0, 0, 200], [2, 3]);
    const r = loss.compute(logits, tf.tensor1d([2, 0], "int32"));
    const lse1 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const expected = (lse1 - 3 + 200) / 2; // second sample: -log softmax(z)[0] = 200 (+ tiny)
    assert.ok(Math.abs(r.loss.dataSync()[0]! - expected) < 1e-3, `${r.loss.dataSync()[0]} vs ${expected}`);
    assert.is(r.correct.dataSync()[0], 1);
  });
  // The model's own forward with logits stops before the softmax, inference output is probabilities.
  tf.tidy(() => {
    const x = tf.tensor2d([0.5, -1], [1, 2]);
    const z = net.forward(x, { training: false, logits: true });
    const pr = net.forward(x, { training: false });
    assert.ok(closeness(values(tf.softmax(z)), values(pr)) <= 1);
    assert.ok(Math.abs(values(pr).reduce((a, b) => a + b) - 1) < 1e-6);
  });
  net.dispose();
});

Modes("sigmoid output: binary cross-entropy from logits; linear output with loss mse: mse", () => {
  const p = program("input 2; dense 1 sigmoid");
  const net = new Network(p.models[0]!, 1);
  const bce = lowerLoss(net, p.train.loss);
  assert.is(p.train.loss.type, "binary_crossentropy");
  tf.tidy(() => {
    const z = [0.3, -2, 50];
    const y = [1, 0, 0];
    const r = bce.compute(tf.tensor2d(z, [3, 1]), tf.tensor1d(y, "int32"));
    const ref =
      z.reduce((a, zi, i) => a + Math.max(zi, 0) - zi * y[i]! + Math.log1p(Math.exp(-Math.abs(zi))), 0) / 3;
    assert.ok(Math.abs(r.loss.dataSync()[0]! - ref) < 1e-4);
    assert.is(r.correct.dataSync()[0], 2);
  });
  net.dispose();
  const q = program("input 2; dense 3; train { loss mse }");
  const lin = new Network(q.models[0]!, 1);
  const mse = lowerLoss(lin, q.train.loss);
  tf.tidy(() => {
    const r = mse.compute(tf.tensor2d([1, 0, 0, 0, 0.5, 0], [2, 3]), tf.tensor1d([0, 2], "int32"));
    assert.ok(Math.abs(r.loss.dataSync()[0]! - (0.25 + 1) / 6) < 1e-6);
  });
  lin.dispose();
});

Modes(
  "dense in inference runs nnc's SIMD GEMM where units are a multiple of 8 (wasm), equal bit for bit to the fused kernel",
  () => {
    const p = program("input 50; dense 16 relu; dense 24; dense 3 softmax");
    const net = new Network(p.models[0]!, 4);
    const kernel = (name: string) => net.weight(`${name}/kernel`)!.variable as tf.Tensor2D;
    const bias = (name: string) => net.weight(`${name}/bias`)!.variable;
    tf.tidy(() => {
      const x = tf.randomUniform([37, 50], -1, 1, "float32", 5) as tf.Tensor2D;
      // The reference: tfjs' fused matMul (XNNPACK on wasm) for every layer, as inference ran before.
      const h1 = tf.fused.matMul({ a: x, b: kernel("dense"), bias: bias("dense"), activation: "relu" });
      const h2 = tf.fused.matMul({ a: h1, b: kernel("dense_1"), bias: bias("dense_1") });
      const out = tf.softmax(tf.fused.matMul({ a: h2, b: kernel("dense_2"), bias: bias("dense_2") }));
      assert.equal(values(net.forward(x, { training: false, output: 1 })), values(h1), "dense 16 relu");
      assert.equal(values(net.forward(x, { training: false, output: 2 })), values(h2), "dense 24");
      assert.equal(values(net.forward(x, { training: false })), values(out), "dense 3 softmax");
    });
    // Which kernels ran: the widths of 16 and 24 off tfjs' matmuls, the 3-wide output layer on one.
    const tfMatMuls = async (run: () => tf.Tensor) =>
      (await tf.profile(() => tf.tidy(run))).kernelNames.filter((k) => /MatMul/.test(k)).length;
    return (async () => {
      const x = tf.randomUniform([8, 50], -1, 1, "float32", 6);
      assert.is(await tfMatMuls(() => net.forward(x, { training: false })), 1);
      // Under a gradient tape (a caller's tf.grad through predict) tf's ops, which record their gradients.
      const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.square(net.forward(input, { training: false }))))(
        x,
      );
      assert.ok(
        values(grad).some((v) => v !== 0),
        "a gradient flows through inference under a tape",
      );
      tf.dispose([x, grad]);
      net.dispose();
    })();
  },
);

Modes(
  "buildModel with an unknown model name: E305, the checker's and the CLI's code, naming the models",
  () => {
    const p = program("input 4; dense 3 softmax");
    try {
      buildModel(p, { model: "nope", backend: "wasm" });
      assert.unreachable("built a model that does not exist");
    } catch (e) {
      assert.instance(e, NncError);
      assert.is((e as NncError).diagnostic.code, "E305");
      assert.match((e as NncError).diagnostic.message, `no model named 'nope'`);
      assert.match((e as NncError).diagnostic.message, p.models[0]!.name);
    }
  },
);

Modes("each model's output activation and loss auto, read from the IR (src/ir/loss-rules.ts)", () => {
  // [model ending, output activation, what loss auto trains with]
  const cases: [string, string, string][] = [
    ["dense 3 softmax", "softmax", "sparse_categorical_crossentropy"],
    ["dense 1 sigmoid", "sigmoid", "binary_crossentropy"],
    ["dense 3 sigmoid", "sigmoid", "mse"],
    ["dense 3", "linear", "sparse_categorical_crossentropy"],
    ["dense 1", "linear", "binary_crossentropy"],
    ["dense 3 softmax; dropout 0.5", "softmax", "sparse_categorical_crossentropy"],
    ["dense 3 softmax; batchnorm", "linear", "sparse_categorical_crossentropy"],
    ["dense 3; softmax", "softmax", "sparse_categorical_crossentropy"],
    ["dense 3 tanh; flatten", "tanh", "mse"],
    ["dense 3; activation linear", "linear", "sparse_categorical_crossentropy"],
  ];
  for (const [end, activation, auto] of cases) {
    const model = program(`input 4; dense 8 relu; ${end}`).models[0]!;
    assert.is(outputActivation(model), activation, end);
    assert.is(modelLoss(model, { type: "auto" }).type, auto, end);
    assert.is(modelLoss(model, { type: "mse" }).type, "mse", `${end}: a declared type stays`);
  }
});

Shapes.run();
Init.run();
Modes.run();
