// IR: Keras' defaults for every optimizer setting, in one table over the schema's Optimizer type. Read by
// whatever makes an optimizer without being told each setting: the builder (`optimizer sgd`, the default train
// block) and experiments (`vary optimizer`). Pure data: no builder, no tfjs.
import type { Optimizer } from "./schema.ts";

export type OptimizerType = Optimizer["type"];
type OptimizerOf<T extends OptimizerType> = Extract<Optimizer, { type: T }>;

/**
 * As keras.optimizers.Adam / AdamW / SGD / RMSprop default them (Keras 3: AdamW's weight_decay 0.004); frozen
 * (take copies from defaultOptimizer). Weight decay and clipping are absent unless given (Keras' None).
 */
export const OPTIMIZER_DEFAULTS: { readonly [T in OptimizerType]: OptimizerOf<T> } = {
  adam: Object.freeze({ type: "adam", lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }),
  adamw: Object.freeze({
    type: "adamw",
    lr: 0.001,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
    weightDecay: 0.004,
  }),
  sgd: Object.freeze({ type: "sgd", lr: 0.01, momentum: 0, nesterov: false }),
  rmsprop: Object.freeze({ type: "rmsprop", lr: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7 }),
};

/** A fresh optimizer of `type` with Keras' defaults, and `lr` instead of the default rate when given. */
export function defaultOptimizer<T extends OptimizerType>(type: T, lr?: number): OptimizerOf<T> {
  const defaults: OptimizerOf<T> = OPTIMIZER_DEFAULTS[type];
  return lr === undefined ? { ...defaults } : { ...defaults, lr };
}

/** The language's spelling of IR optimizer fields that differ from it (the rest are spelled alike). */
const SPELLING: Readonly<Record<string, string>> = {
  weightDecay: "weight_decay",
  globalClipnorm: "global_clipnorm",
};

/**
 * "sgd lr=0.05 momentum=0.9 nesterov=true": the type, its rate and every setting that differs from Keras'
 * default, as the spec would write them, so a run header shows what will actually train.
 */
export function describeOptimizer(optimizer: Optimizer): string {
  const defaults = OPTIMIZER_DEFAULTS[optimizer.type] as Record<string, unknown>;
  const changed = Object.entries(optimizer)
    .filter(
      ([key, value]) =>
        key !== "type" && key !== "lr" && key !== "span" && value !== undefined && value !== defaults[key],
    )
    .map(([key, value]) => `${SPELLING[key] ?? key}=${String(value)}`);
  return [optimizer.type, `lr=${optimizer.lr}`, ...changed].join(" ");
}
