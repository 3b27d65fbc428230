// Training: the IR optimizer -> an update rule over a network's trainable variables with Keras 3's exact formulas
// and defaults, run in JS over every parameter at once; its slots are ours to checkpoint by name
// ("dense/kernel/m") and a resumed run continues bit for bit. (tfjs' optimizers keep unnamed backend state.)
import * as tf from "@tensorflow/tfjs-core";
import { fail } from "../diagnostics/diagnostic.ts";
import type { Optimizer as OptimizerSpec } from "../ir/schema.ts";
import { optimizerSlotNames, slotsOnWasmHeap } from "../ir/training-memory.ts";
import type { WeightEntry } from "../lower/network.ts";
import type { WeightData } from "../runtime/types.ts";
import { openUpdate, runUpdate, wasmHeap } from "./tensor-memory.ts";
import { simdKernels, type SimdKernels } from "../runtime/simd-kernels.ts";

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

/**
 * Per-weight update over plain arrays: `w` the weight, `out` its next value (every element written), `g` its
 * gradient, `s` its slots (updated in place) in the order of `names`, `t` the 1-based step. Arithmetic in float64,
 * stored as float32.
 */
type Rule = (w: Float32Array, out: Float32Array, g: Float32Array, s: Float32Array[], t: number) => void;

/**
 * The optimizer over `weights`. Each slot kind ("m", "v", ...) is one flat float32 buffer with every weight at
 * its own offset: on wasm a tensor in the backend's heap, elsewhere a Float32Array. An update reads each gradient
 * and writes each weight's next value through tensor-memory.ts; on wasm Adam is one SIMD call per weight into
 * simd-kernels.wat, else a JS loop. No tf kernel per weight, however many layers. (As tf ops, Adam was ~12
 * small kernels per weight, ~90 a step for the BN MLP, Sqrt alone 10-20% of a batch-32 step.) A model too large
 * for its slots to share the heap's 4 GiB with its weights, their packed copies and gradients (slotsOnWasmHeap:
 * above ~161 million trainable parameters) keeps them in JS memory and takes the JS loop: dense 300000 after
 * flatten needed 4.4 GiB of heap at its first update with its slots on it, and failed.
 */
export function createOptimizer(spec: OptimizerSpec, weights: WeightEntry[]): Optimizer {
  const { rule, wasmRule } = ruleFor(spec);
  const names = optimizerSlotNames(spec);
  const offsets: number[] = [];
  let total = 0;
  for (const w of weights) {
    offsets.push(total);
    total += w.variable.size;
  }
  const heap = wasmHeap();
  const onHeap = heap !== undefined && wasmRule !== undefined && slotsOnWasmHeap(spec, total);
  const kernels = onHeap ? simdKernels(heap.memory) : undefined;
  // On the heap only where the kernel reads them; kept out of any caller's tidy scope.
  const heapSlots = kernels ? names.map(() => tf.keep(tf.zeros([Math.max(total, 1)]))) : undefined;
  const jsSlots = heapSlots ? undefined : names.map(() => new Float32Array(total));
  /** Slot kind k of weight i (a heap view: take it after the step's allocations). */
  const slotOf = (k: number, i: number) => {
    const flat = heapSlots ? heap!.view(heapSlots[k]!) : jsSlots![k]!;
    return flat.subarray(offsets[i]!, offsets[i]! + weights[i]!.variable.size);
  };
  let step = 0;
  return {
    get step() {
      return step;
    },
    apply(grads) {
      const t = step + 1;
      const gs = weights.map((w) => {
        const g = grads[w.name];
        if (!g) throw new Error(`internal: no gradient for ${w.name}`);
        if (g.size !== w.variable.size)
          throw new Error(`internal: gradient of ${w.name} has shape [${g.shape}]`);
        return g;
      });
      const open = openUpdate(
        gs,
        weights.map((w) => w.variable),
      );
      runUpdate(open, () => {
        if (kernels && heapSlots && open.pointers) {
          const p = open.pointers;
          const base = heapSlots.map((s) => heap!.pointer(s));
          for (let i = 0; i < weights.length; i++) {
            const slots = base.map((b) => b + 4 * offsets[i]!);
            wasmRule!(kernels, p.current[i]!, p.next[i]!, p.read[i]!, slots, weights[i]!.variable.size, t);
          }
        } else {
          for (let i = 0; i < weights.length; i++) {
            const slots = names.map((_, k) => slotOf(k, i));
            rule(open.current[i]!, open.next[i]!, open.read[i]!, slots, t);
          }
        }
      });
      step = t;
    },
    slots() {
      const out: Record<string, WeightData> = {};
      weights.forEach((w, i) => {
        names.forEach((s, k) => {
          out[`${w.name}/${s}`] = { shape: [...w.variable.shape], data: Float32Array.from(slotOf(k, i)) };
        });
      });
      return out;
    },
    restore(savedStep, saved) {
      weights.forEach((w, i) => {
        names.forEach((s, k) => {
          const data = saved[`${w.name}/${s}`];
          // A checkpoint is untrusted data (src/save/checkpoint-read.ts checks all but this): only the
          // optimizer knows which slots it needs, so a missing one is the user's E017, not an internal error.
          const file = "the checkpoint";
          if (!data) fail("E017", { file, detail: `it lacks the optimizer slot ${w.name}/${s}` });
          if (data.data.length !== w.variable.size) {
            fail("E017", {
              file,
              detail: `its optimizer slot ${w.name}/${s} has ${data.data.length} values, not ${w.variable.size}`,
            });
          }
          slotOf(k, i).set(data.data);
        });
      });
      step = savedStep;
    },
    dispose() {
      if (heapSlots) tf.dispose(heapSlots);
    },
  };
}

/** The update on wasm: slots as byte addresses (in `names` order), n values. */
type WasmRule = (
  k: SimdKernels,
  w: number,
  out: number,
  g: number,
  slots: number[],
  n: number,
  t: number,
) => void;

/** The update rule; its slots are optimizerSlotNames(spec), in that order. */
function ruleFor(spec: OptimizerSpec): { rule: Rule; wasmRule?: WasmRule } {
  switch (spec.type) {
    case "adam": {
      // Keras: alpha = lr sqrt(1 - b2^t) / (1 - b1^t); m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
      // w -= alpha m / (sqrt(v) + epsilon). Epsilon is added to sqrt(v) of the UNcorrected v ("epsilon hat"),
      // which differs from the paper's Algorithm 1 (and from PyTorch) by a factor sqrt(1 - b2^t) on epsilon.
      const { lr, beta1, beta2, epsilon } = spec;
      const [a1, a2] = [1 - beta1, 1 - beta2];
      const alphaAt = (t: number) => (lr * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
      return {
        wasmRule: (k, w, out, g, [m, v], n, t) => k.adam(w, out, g, m!, v!, n, alphaAt(t), a1, a2, epsilon),
        rule: (w, out, g, [m, v], t) => {
          const alpha = alphaAt(t);
          for (let j = 0; j < w.length; j++) {
            const gj = g[j]!;
            const mj = m![j]! + (gj - m![j]!) * a1;
            const vj = v![j]! + (gj * gj - v![j]!) * a2;
            m![j] = mj;
            v![j] = vj;
            out[j] = w[j]! - (alpha * mj) / (Math.sqrt(vj) + epsilon);
          }
        },
      };
    }
    case "sgd": {
      // Keras: m = momentum m - lr g; w += m, or with nesterov w += momentum m - lr g; without momentum w -= lr g.
      const { lr, momentum, nesterov } = spec;
      if (momentum === 0) {
        return {
          rule: (w, out, g) => {
            for (let j = 0; j < w.length; j++) out[j] = w[j]! - lr * g[j]!;
          },
        };
      }
      return {
        rule: (w, out, g, [m]) => {
          for (let j = 0; j < w.length; j++) {
            const step = lr * g[j]!;
            const mj = momentum * m![j]! - step;
            m![j] = mj;
            out[j] = w[j]! + (nesterov ? momentum * mj - step : mj);
          }
        },
      };
    }
    case "rmsprop": {
      // Keras: v = rho v + (1 - rho) g^2; increment = lr g / sqrt(v + epsilon) (epsilon INSIDE the root, unlike
      // tf.keras 2's sqrt(v) + epsilon); with momentum: mom = momentum mom + increment, w -= mom.
      const { lr, rho, momentum, epsilon } = spec;
      return {
        rule: (w, out, g, [v, mom]) => {
          for (let j = 0; j < w.length; j++) {
            const gj = g[j]!;
            const vj = rho * v![j]! + (1 - rho) * gj * gj;
            v![j] = vj;
            const increment = (lr * gj) / Math.sqrt(vj + epsilon);
            if (mom) {
              const mj = momentum * mom[j]! + increment;
              mom[j] = mj;
              out[j] = w[j]! - mj;
            } else out[j] = w[j]! - increment;
          }
        },
      };
    }
  }
}
