// Training: the IR optimizer -> an update rule over a network's trainable variables, written over tf ops with
// Keras 3's exact formulas and defaults, so its slots are ours to checkpoint by name ("dense/kernel/m") and a
// resumed run continues bit for bit. (tfjs' optimizers keep their state in unnamed, backend-held variables.)
import * as tf from "@tensorflow/tfjs-core";
import type { Optimizer as OptimizerSpec } from "../ir/schema.ts";
import type { WeightEntry } from "../lower/network.ts";
import type { WeightData } from "../runtime/types.ts";

export interface Optimizer {
  /** Updates applied so far (Keras' `iterations`). */
  readonly step: number;
  /** Applies one update from gradients keyed by Keras weight name. Call inside tf.tidy. */
  apply(grads: Record<string, tf.Tensor>): void;
  /** Slot values by name ("dense/kernel/m", ...), copied out of the backend. */
  slots(): Record<string, WeightData>;
  /** Restores a checkpoint taken with slots() / step. */
  restore(step: number, slots: Record<string, WeightData>): void;
  dispose(): void;
}

interface Slot {
  name: string;
  variable: tf.Variable;
}

/** Per-weight update: `s` holds that weight's slots in the order of `slotNames`. */
type Rule = (w: tf.Variable, g: tf.Tensor, s: tf.Variable[], t: number) => void;

let optimizerCount = 0;

export function createOptimizer(spec: OptimizerSpec, weights: WeightEntry[]): Optimizer {
  const { names, rule } = ruleFor(spec);
  const prefix = `nnc-opt${++optimizerCount}`;
  const slots = new Map<string, Slot[]>();
  for (const w of weights) {
    slots.set(
      w.name,
      names.map((s) => ({
        name: `${w.name}/${s}`,
        variable: tf.variable(tf.zerosLike(w.variable), false, `${prefix}/${w.name}/${s}`),
      })),
    );
  }
  let step = 0;
  return {
    get step() {
      return step;
    },
    apply(grads) {
      const t = step + 1;
      for (const w of weights) {
        const g = grads[w.name];
        if (!g) throw new Error(`internal: no gradient for ${w.name}`);
        rule(
          w.variable,
          g,
          slots.get(w.name)!.map((s) => s.variable),
          t,
        );
      }
      step = t;
    },
    slots() {
      const out: Record<string, WeightData> = {};
      for (const list of slots.values()) {
        for (const s of list)
          out[s.name] = { shape: [...s.variable.shape], data: Float32Array.from(s.variable.dataSync()) };
      }
      return out;
    },
    restore(savedStep, saved) {
      for (const list of slots.values()) {
        for (const s of list) {
          const data = saved[s.name];
          if (!data) throw new Error(`checkpoint has no optimizer slot ${s.name}`);
          tf.tidy(() => s.variable.assign(tf.tensor(data.data, s.variable.shape, "float32")));
        }
      }
      step = savedStep;
    },
    dispose() {
      for (const list of slots.values()) for (const s of list) s.variable.dispose();
      slots.clear();
    },
  };
}

function ruleFor(spec: OptimizerSpec): { names: string[]; rule: Rule } {
  switch (spec.type) {
    case "adam": {
      // Keras: alpha = lr sqrt(1 - b2^t) / (1 - b1^t); m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
      // w -= alpha m / (sqrt(v) + epsilon). Epsilon is added to sqrt(v) of the UNcorrected v ("epsilon hat"),
      // which differs from the paper's Algorithm 1 (and from PyTorch) by a factor sqrt(1 - b2^t) on epsilon.
      const { lr, beta1, beta2, epsilon } = spec;
      return {
        names: ["m", "v"],
        rule: (w, g, [m, v], t) => {
          const alpha = (lr * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
          m!.assign(tf.add(m!, tf.mul(tf.sub(g, m!), 1 - beta1)));
          v!.assign(tf.add(v!, tf.mul(tf.sub(tf.square(g), v!), 1 - beta2)));
          w.assign(tf.sub(w, tf.div(tf.mul(m!, alpha), tf.add(tf.sqrt(v!), epsilon))));
        },
      };
    }
    case "sgd": {
      // Keras: m = momentum m - lr g; w += m, or with nesterov w += momentum m - lr g; without momentum w -= lr g.
      const { lr, momentum, nesterov } = spec;
      if (momentum === 0) return { names: [], rule: (w, g) => w.assign(tf.sub(w, tf.mul(g, lr))) };
      return {
        names: ["momentum"],
        rule: (w, g, [m]) => {
          const step = tf.mul(g, lr);
          m!.assign(tf.sub(tf.mul(m!, momentum), step));
          w.assign(nesterov ? tf.add(w, tf.sub(tf.mul(m!, momentum), step)) : tf.add(w, m!));
        },
      };
    }
    case "rmsprop": {
      // Keras: v = rho v + (1 - rho) g^2; increment = lr g / sqrt(v + epsilon) (epsilon INSIDE the root, unlike
      // tf.keras 2's sqrt(v) + epsilon); with momentum: mom = momentum mom + increment, w -= mom.
      const { lr, rho, momentum, epsilon } = spec;
      return {
        names: momentum > 0 ? ["velocity", "momentum"] : ["velocity"],
        rule: (w, g, [v, mom]) => {
          v!.assign(tf.add(tf.mul(v!, rho), tf.mul(tf.square(g), 1 - rho)));
          const increment = tf.div(tf.mul(g, lr), tf.sqrt(tf.add(v!, epsilon)));
          if (mom) {
            mom.assign(tf.add(tf.mul(mom, momentum), increment));
            w.assign(tf.sub(w, mom));
          } else w.assign(tf.sub(w, increment));
        },
      };
    }
  }
}
