// Training: the IR optimizer -> an update rule over a network's trainable variables with Keras 3's exact formulas
// and defaults, run in JS over every parameter at once; its slots are ours to checkpoint by name
// ("dense/kernel/m") and a resumed run continues bit for bit. (tfjs' optimizers keep unnamed backend state.)
// Every optimizer clips and decays as Keras 3's base optimizer does (keras/src/optimizers/base_optimizer.py,
// _backend_apply_gradients): gradients clipped (_clip_gradients), then every trainable variable decayed
// (_apply_weight_decay: w -= w * weight_decay * lr, no variable excluded), then the optimizer's own update.
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
  /**
   * Applies one update from gradients keyed by Keras weight name: clipping, weight decay, then the rule, at
   * learning rate `lr` (the step's rate of the run's schedule, src/train/schedule.ts; default the optimizer's
   * lr). Call inside tf.tidy. The gradients' values are read, never changed.
   */
  apply(grads: Record<string, tf.Tensor>, lr?: number): void;
  /** Slot values by name ("dense/kernel/m", ...), copied out of the backend. */
  slots(): Record<string, WeightData>;
  /** Restores a checkpoint taken with slots() / step. */
  restore(step: number, slots: Record<string, WeightData>): void;
  dispose(): void;
}

/**
 * Per-weight update over plain arrays: `w` the weight, `out` its next value (every element written), `g` its
 * gradient, `s` its slots (updated in place) in the order of `names`, `t` the 1-based step, `lr` the step's
 * learning rate. Arithmetic in float64, stored as float32.
 */
type Rule = (
  w: Float32Array,
  out: Float32Array,
  g: Float32Array,
  s: Float32Array[],
  t: number,
  lr: number,
) => void;

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
  const clipping =
    spec.clipnorm !== undefined || spec.clipvalue !== undefined || spec.globalClipnorm !== undefined;
  // Clipped gradients of the JS rules, one weight at a time (the largest weight's size, made on first use).
  let scratch = new Float32Array(0);
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
    apply(grads, lr = spec.lr) {
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
        const scales = clipping ? gradientScales(spec, open.read) : undefined;
        // Keras decays with the step's learning rate (base_optimizer.py _apply_weight_decay).
        const decay = (spec.weightDecay ?? 0) * lr;
        if (kernels && heapSlots && open.pointers) {
          const p = open.pointers;
          const base = heapSlots.map((s) => heap!.pointer(s));
          const clip = spec.clipvalue ?? Infinity;
          for (let i = 0; i < weights.length; i++) {
            const slots = base.map((b) => b + 4 * offsets[i]!);
            const gscale = scales?.[i] ?? 1;
            const n = weights[i]!.variable.size;
            wasmRule!(kernels, p.current[i]!, p.next[i]!, p.read[i]!, slots, n, t, lr, gscale, clip, decay);
          }
        } else {
          for (let i = 0; i < weights.length; i++) {
            const slots = names.map((_, k) => slotOf(k, i));
            let g = open.read[i]!;
            if (clipping) {
              if (scratch.length < g.length) scratch = new Float32Array(g.length);
              g = clipInto(g, scratch.subarray(0, g.length), scales?.[i] ?? 1, spec.clipvalue);
            }
            let w = open.current[i]!;
            if (decay !== 0) {
              // The decayed weight goes to `out` and the rule reads it there: every rule reads element j
              // before it writes it, as an in-place update already relies on.
              const out = open.next[i]!;
              for (let j = 0; j < w.length; j++) out[j] = w[j]! - w[j]! * decay;
              w = out;
            }
            rule(w, open.next[i]!, g, slots, t, lr);
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

/**
 * The update on wasm: slots as byte addresses (in `names` order), n values; the gradient scaled by gscale and
 * clamped to [-clip, clip], the weight decayed by w * decay before the update (1, Infinity, 0: none).
 */
type WasmRule = (
  k: SimdKernels,
  w: number,
  out: number,
  g: number,
  slots: number[],
  n: number,
  t: number,
  lr: number,
  gscale: number,
  clip: number,
  decay: number,
) => void;

/**
 * Each weight's gradient factor from clipnorm or global_clipnorm (keras/src/optimizers/base_optimizer.py):
 * clipnorm: g * clipnorm / max(|g|, clipnorm) per weight (_clip_by_norm); global_clipnorm: every g times
 * clip * min(1 / |G|, 1 / clip) for the norm |G| of all gradients together, NaN when |G| is not finite
 * (clip_by_global_norm). Norms in float64. Undefined for clipvalue alone (a clamp, no factor).
 */
export function gradientScales(spec: OptimizerSpec, grads: Float32Array[]): number[] | undefined {
  const sumOfSquares = (g: Float32Array) => {
    let s = 0;
    for (let j = 0; j < g.length; j++) s += g[j]! * g[j]!;
    return s;
  };
  if (spec.clipnorm !== undefined) {
    const c = spec.clipnorm;
    return grads.map((g) => c / Math.max(Math.sqrt(sumOfSquares(g)), c));
  }
  if (spec.globalClipnorm !== undefined) {
    const c = spec.globalClipnorm;
    const norm = Math.sqrt(grads.reduce((s, g) => s + sumOfSquares(g), 0));
    const scale = Number.isFinite(norm) ? c * Math.min(1 / norm, 1 / c) : NaN;
    return grads.map(() => scale);
  }
  return undefined;
}

/** `g` times `scale`, clamped to [-clipvalue, clipvalue] when given, into `out` (float32, as the kernel). */
function clipInto(
  g: Float32Array,
  out: Float32Array,
  scale: number,
  clipvalue: number | undefined,
): Float32Array {
  const f = Math.fround(scale);
  const c = clipvalue === undefined ? Infinity : Math.fround(clipvalue);
  for (let j = 0; j < g.length; j++) out[j] = Math.max(Math.min(Math.fround(g[j]! * f), c), -c);
  return out;
}

/** The update rule; its slots are optimizerSlotNames(spec), in that order. */
function ruleFor(spec: OptimizerSpec): { rule: Rule; wasmRule?: WasmRule } {
  switch (spec.type) {
    case "adam":
    case "adamw": {
      // Keras: alpha = lr sqrt(1 - b2^t) / (1 - b1^t); m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
      // w -= alpha m / (sqrt(v) + epsilon). Epsilon is added to sqrt(v) of the UNcorrected v ("epsilon hat"),
      // which differs from the paper's Algorithm 1 (and from PyTorch) by a factor sqrt(1 - b2^t) on epsilon.
      // AdamW (keras/src/optimizers/adamw.py) is this Adam with weight_decay (default 0.004), which the caller
      // applies as for every optimizer.
      const { beta1, beta2, epsilon } = spec;
      const [a1, a2] = [1 - beta1, 1 - beta2];
      const alphaAt = (t: number, lr: number) =>
        (lr * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
      return {
        wasmRule: (k, w, out, g, [m, v], n, t, lr, gscale, clip, decay) =>
          k.adam(w, out, g, m!, v!, n, alphaAt(t, lr), a1, a2, epsilon, gscale, clip, decay),
        rule: (w, out, g, [m, v], t, lr) => {
          const alpha = alphaAt(t, lr);
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
      const { momentum, nesterov } = spec;
      if (momentum === 0) {
        return {
          rule: (w, out, g, _s, _t, lr) => {
            for (let j = 0; j < w.length; j++) out[j] = w[j]! - lr * g[j]!;
          },
        };
      }
      return {
        rule: (w, out, g, [m], _t, lr) => {
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
      const { rho, momentum, epsilon } = spec;
      return {
        rule: (w, out, g, [v, mom], _t, lr) => {
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
