// The IR's ops in Keras' words: the default layer name (dense, dense_1, ...) the builder gives, and the class
// name that summaries print and the Layers-format export writes. Read from each op's module (src/ops/).
import { OPS } from "../ops/index.ts";
import type { LayerOp } from "./schema.ts";

/** Keras' default layer name and class name per op. */
export const KERAS_NAMES = Object.fromEntries(OPS.map((o) => [o.op, o.keras])) as Record<
  LayerOp,
  { base: string; className: string }
>;
