// Test helper: a CompiledModel written independently of src/lower — inference from IR + Keras-named weights
// in plain tfjs-core ops, random (seeded) weights with non-trivial batch-norm statistics. It lets the saving
// tests check the Keras export against a second implementation, and runs before the real lowering exists.
import * as tf from "@tensorflow/tfjs-core";
import { compile } from "../../src/compile.ts";
import type { Activation, Program } from "../../src/ir/schema.ts";
import type { BackendName, CompiledModel, WeightData } from "../../src/runtime/types.ts";
import { kerasWeights } from "../../src/save/keras.ts";
import { Random } from "../../src/util/random.ts";

export function checkedProgram(source: string): Program {
  const result = compile(source);
  if (!result.program) throw new Error(result.diagnostics.map((d) => d.message).join("\n"));
  return result.program;
}

function activate(x: tf.Tensor, a: Activation, alpha?: number): tf.Tensor {
  const sigmoid = (v: tf.Tensor) => tf.div(1, tf.add(1, tf.exp(tf.neg(v))));
  switch (a) {
    case "relu":
      return tf.relu(x);
    case "sigmoid":
      return tf.sigmoid(x);
    case "tanh":
      return tf.tanh(x);
    case "softmax":
      return tf.softmax(x);
    case "elu":
      return tf.elu(x);
    case "gelu":
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
    case "leaky_relu":
      return tf.where(tf.greater(x, 0), x, tf.mul(x, alpha ?? 0.3));
    case "selu":
      // Klambauer et al. (2017)'s constants, as Keras' selu.
      return tf.mul(
        1.0507009873554805,
        tf.where(tf.greater(x, 0), x, tf.mul(1.6732632423543772, tf.sub(tf.exp(x), 1))),
      );
    case "swish":
    case "silu":
      return tf.mul(x, sigmoid(x));
    case "softplus":
      return tf.log(tf.add(1, tf.exp(x)));
    case "hard_sigmoid":
      // Keras 2's and tfjs-layers' (K.hardSigmoid).
      return tf.minimum(1, tf.maximum(0, tf.add(tf.mul(0.2, x), 0.5)));
    case "exponential":
      return tf.exp(x);
    case "linear":
      return x;
  }
}

export function referenceModel(
  program: Program,
  options: { seed?: number; backend: BackendName },
): CompiledModel {
  const model = program.models[0]!;
  const rng = new Random(options.seed ?? 1);
  const weights = new Map<string, tf.Tensor>();
  for (const { name, shape } of kerasWeights(model)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    // Variances positive and away from 1, means away from 0: a mix-up of any two shows in the predictions.
    for (let i = 0; i < n; i++) {
      data[i] = name.endsWith("variance")
        ? rng.uniform(0.5, 2)
        : name.endsWith("gamma")
          ? rng.uniform(0.5, 1.5)
          : rng.uniform(-0.5, 0.5);
    }
    weights.set(name, tf.keep(tf.tensor(data, shape)));
  }
  const w = (name: string) => weights.get(name)!;
  const has = (name: string) => weights.has(name);

  const forward = (x: tf.Tensor): tf.Tensor => {
    let h = x;
    for (const layer of model.layers) {
      const p = layer.name;
      switch (layer.op) {
        case "input":
        case "dropout":
          break;
        case "flatten":
          h = tf.reshape(h, [h.shape[0]!, -1]);
          break;
        case "dense": {
          const rows = h.shape.slice(0, -1);
          let y = tf.matMul(tf.reshape(h, [-1, h.shape.at(-1)!]), w(`${p}/kernel`));
          if (layer.useBias) y = tf.add(y, w(`${p}/bias`));
          h = activate(tf.reshape(y, [...rows, layer.units]), layer.activation);
          break;
        }
        case "conv2d": {
          let y: tf.Tensor = tf.conv2d(
            h as tf.Tensor4D,
            w(`${p}/kernel`) as tf.Tensor4D,
            layer.strides,
            layer.padding,
          );
          if (layer.useBias) y = tf.add(y, w(`${p}/bias`));
          h = activate(y, layer.activation);
          break;
        }
        case "batchnorm": {
          const normalized = tf.div(
            tf.sub(h, w(`${p}/moving_mean`)),
            tf.sqrt(tf.add(w(`${p}/moving_variance`), layer.epsilon)),
          );
          const scaled = has(`${p}/gamma`) ? tf.mul(normalized, w(`${p}/gamma`)) : normalized;
          h = has(`${p}/beta`) ? tf.add(scaled, w(`${p}/beta`)) : scaled;
          break;
        }
        case "layernorm": {
          const { mean, variance } = tf.moments(h, -1, true);
          const normalized = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, layer.epsilon)));
          const scaled = has(`${p}/gamma`) ? tf.mul(normalized, w(`${p}/gamma`)) : normalized;
          h = has(`${p}/beta`) ? tf.add(scaled, w(`${p}/beta`)) : scaled;
          break;
        }
        case "activation":
          h = activate(h, layer.activation, layer.alpha);
          break;
        case "maxpool":
          h = tf.maxPool(h as tf.Tensor4D, layer.poolSize, layer.strides, layer.padding);
          break;
        case "avgpool":
          h = tf.avgPool(h as tf.Tensor4D, layer.poolSize, layer.strides, layer.padding);
          break;
        case "globalavgpool":
          h = tf.mean(h, [1, 2]);
          break;
      }
    }
    return h;
  };

  return {
    program,
    model,
    backend: options.backend,
    predict: (x) => tf.tidy(() => forward(x)),
    fit: () => Promise.reject(new Error("the reference model does not train")),
    evaluate: () => {
      throw new Error("the reference model does not evaluate");
    },
    getWeights: () => Object.fromEntries(weights),
    setWeights(values) {
      for (const [name, v] of Object.entries(values)) {
        const old = weights.get(name);
        if (!old) throw new Error(`no weight ${name}`);
        const t =
          v instanceof tf.Tensor
            ? v.clone()
            : "shape" in v && !(v instanceof Float32Array)
              ? tf.tensor((v as WeightData).data, (v as WeightData).shape)
              : tf.tensor(v as number[] | Float32Array, old.shape);
        old.dispose();
        weights.set(name, tf.keep(t));
      }
    },
    dispose: () => weights.forEach((t) => t.dispose()),
  };
}
