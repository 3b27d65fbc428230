// What the elementwise merge kernels share: Keras' Merge layers fold their inputs pairwise from the first
// (tfjs-layers: out = op(out, inputs[i])), and so do nnc's kernels, so the autograd path differentiates the same
// chain the compiled step's closed forms invert (ties of maximum / minimum go where tf's gradients send them).
import * as tf from "@tensorflow/tfjs-core";

/** `pair` folded over the inputs from the first, and every partial result (partials[k] = fold of x0..xk). */
export function foldInputs(xs: tf.Tensor[], pair: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): tf.Tensor[] {
  const partials = [xs[0]!];
  for (let k = 1; k < xs.length; k++) partials.push(pair(partials[k - 1]!, xs[k]!));
  return partials;
}

/**
 * dx of a fold of tf.maximum (`max`) or tf.minimum: tf sends dy of max(a, b) to a where a >= b, else to b (of
 * min(a, b): to a where a <= b). Walked from the last input back: input k gets dy where it won its pair, the
 * rest flows on to the partial before it.
 */
export function extremumGrads(
  dy: tf.Tensor,
  xs: tf.Tensor[],
  partials: tf.Tensor[],
  max: boolean,
): tf.Tensor[] {
  const dxs: tf.Tensor[] = new Array(xs.length);
  let g = dy;
  for (let k = xs.length - 1; k >= 1; k--) {
    const [a, b] = [partials[k - 1]!, xs[k]!];
    const firstWins = tf.cast(max ? tf.greaterEqual(a, b) : tf.lessEqual(a, b), "float32");
    dxs[k] = tf.mul(g, tf.sub(1, firstWins));
    g = tf.mul(g, firstWins);
  }
  dxs[0] = g;
  return dxs;
}
