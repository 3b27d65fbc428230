// Lowering: a layer's weight shape + its IR initializer -> the initial values, drawn from nnc's seeded PRNG
// (tfjs' initializers are unseeded by default). Keras' default initializers and formulas, with the IR's `scale`
// multiplying the spread (limit or standard deviation); scale 1 is Keras exactly.
import type { Initializer } from "../ir/schema.ts";
import type { Random } from "../util/random.ts";
import { sizeOf } from "../util/shape.ts";

/**
 * Keras' fans: for a dense kernel [in, out] they are in and out; for a conv kernel [kh, kw, in, out] the
 * receptive field kh*kw multiplies both.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    const n = shape[0] ?? 1;
    return { fanIn: n, fanOut: n };
  }
  const receptive = sizeOf(shape.slice(0, -2));
  return { fanIn: shape.at(-2)! * receptive, fanOut: shape.at(-1)! * receptive };
}

// Keras' VarianceScaling divides the truncated normal's stddev by this: the stddev of a standard normal
// truncated to [-2, 2], so the drawn values keep the intended variance.
const TRUNCATED_STDDEV = 0.87962566103423978;

/** What an initializer draws: uniform in [-limit, limit], (truncated) normal with `stddev`, or zeros. */
export type Distribution =
  | { kind: "uniform"; limit: number }
  | { kind: "normal"; stddev: number; truncated: boolean }
  | { kind: "zeros" };

/** Keras' formula for each initializer (VarianceScaling modes fan_in / fan_avg; RandomNormal/Uniform 0.05). */
export function distribution(init: Initializer, shape: readonly number[]): Distribution {
  const { fanIn, fanOut } = fans(shape);
  const s = init.scale;
  const avg = (fanIn + fanOut) / 2;
  switch (init.name) {
    case "glorot_uniform":
      return { kind: "uniform", limit: s * Math.sqrt(3 / avg) }; // = sqrt(6 / (fan_in + fan_out))
    case "glorot_normal":
      return { kind: "normal", stddev: (s * Math.sqrt(1 / avg)) / TRUNCATED_STDDEV, truncated: true };
    case "he_uniform":
      return { kind: "uniform", limit: s * Math.sqrt(6 / fanIn) };
    case "he_normal":
      return { kind: "normal", stddev: (s * Math.sqrt(2 / fanIn)) / TRUNCATED_STDDEV, truncated: true };
    case "lecun_uniform":
      return { kind: "uniform", limit: s * Math.sqrt(3 / fanIn) };
    case "lecun_normal":
      return { kind: "normal", stddev: (s * Math.sqrt(1 / fanIn)) / TRUNCATED_STDDEV, truncated: true };
    case "random_normal":
      return { kind: "normal", stddev: 0.05 * s, truncated: false };
    case "random_uniform":
      return { kind: "uniform", limit: 0.05 * s };
    case "zeros":
      return { kind: "zeros" };
  }
}

/** Draws a weight's initial values from `rng` (a stream forked for this weight alone). */
export function initialValues(init: Initializer, shape: readonly number[], rng: Random): Float32Array {
  const size = sizeOf(shape);
  const out = new Float32Array(size);
  const d = distribution(init, shape);
  if (d.kind === "uniform") {
    for (let i = 0; i < size; i++) out[i] = rng.uniform(-d.limit, d.limit);
  } else if (d.kind === "normal") {
    for (let i = 0; i < size; i++) out[i] = d.stddev * (d.truncated ? rng.truncatedNormal() : rng.normal());
  }
  return out;
}
