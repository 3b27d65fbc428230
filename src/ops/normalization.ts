// What batchnorm and layernorm share: the learned affine after normalizing (gamma if `scale`, beta if
// `center`, per channel of the last axis), its options and Keras weights.
import {
  optionUnlessDefault,
  roundFloat,
  type ImportedStatement,
  type KerasConfigReader,
} from "./keras-import.ts";
import type { ParamSpec } from "./signature.ts";
import { bool, num, positive } from "./signature.ts";

/** epsilon, center, scale: as Keras names and defaults them for both normalizations. */
export const affineOptions: ParamSpec[] = [
  { name: "epsilon", type: num(positive), doc: "added to the variance", default: 0.001, field: "epsilon" },
  { name: "center", type: bool, doc: "learn beta (shift)", default: true, field: "center" },
  { name: "scale", type: bool, doc: "learn gamma (scale)", default: true, field: "scale" },
];

/** gamma (when scale) then beta (when center), Keras' order, one value per channel. */
export const affineWeights = (node: { scale: boolean; center: boolean }, channels: number) => [
  ...(node.scale ? [{ suffix: "gamma", shape: [channels] }] : []),
  ...(node.center ? [{ suffix: "beta", shape: [channels] }] : []),
];

/** Trainable parameters of the affine: gamma and beta, one each per channel. */
export const affineParams = (node: { scale: boolean; center: boolean }, channels: number) =>
  channels * ((node.scale ? 1 : 0) + (node.center ? 1 : 0));

/** nnc import: epsilon, center and scale of a normalization layer's Keras config, and its axis (the last). */
export function readAffineConfig(r: KerasConfigReader, options: ImportedStatement["options"]): void {
  r.lastAxis("axis");
  const epsilon = r.number("epsilon", 0.001, (e) => (e > 0 ? undefined : "epsilon must be above 0"));
  optionUnlessDefault(options, "epsilon", roundFloat(epsilon), 0.001);
  optionUnlessDefault(options, "center", r.bool("center", true), true);
  optionUnlessDefault(options, "scale", r.bool("scale", true), true);
  for (const key of ["beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"]) {
    if (r.has(key)) r.note(`${key} is left out: nnc has none (it changes training only)`);
  }
}
