// What zeropadding2d and cropping2d share: margins added to or cut from the height and width of NHWC images,
// written `P` (P rows and columns on every side) or `PxQ` (P rows top and bottom, Q columns left and right),
// held in the IR as Keras holds them ([[top, bottom], [left, right]]), read back from Keras' int, pair or pair
// of pairs; and their ONNX rule's axes in either layout.
import { Type } from "@sinclair/typebox";
import type { KerasConfigReader } from "./keras-import.ts";
import type { OnnxLayout } from "./onnx.ts";

export type Margins = [[number, number], [number, number]];

const Side = Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 })]);
export const MarginsSchema = (description: string) => Type.Tuple([Side, Side], { description });

/** `P` or `PxQ` as margins. */
export const symmetric = ([p, q]: [number, number]): Margins => [
  [p, p],
  [q, q],
];

/** The statement's positional value for margins: `P` where all four are equal, else `PxQ`. */
export const marginsText = ([[t], [l]]: Margins): string | number => (t === l ? t : `${t}x${l}`);

/**
 * Keras' padding / cropping config (an int, [rows, cols] or [[top, bottom], [left, right]]) as margins; a
 * problem where top differs from bottom or left from right (nnc's statement is symmetric).
 */
export function readMargins(r: KerasConfigReader, key: string, fallback: number): Margins {
  const v = r.config[key];
  const ok = (d: unknown): d is number => typeof d === "number" && Number.isInteger(d) && d >= 0;
  let m: Margins | undefined;
  if (v === undefined || v === null) m = symmetric([fallback, fallback]);
  else if (ok(v)) m = symmetric([v, v]);
  else if (Array.isArray(v) && v.length === 2 && v.every(ok)) m = symmetric([v[0], v[1]]);
  else if (
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((s) => Array.isArray(s) && s.length === 2 && s.every(ok))
  )
    m = v as Margins;
  if (!m) {
    r.problem(key, "expected an integer, [rows, columns] or [[top, bottom], [left, right]]");
    return symmetric([1, 1]);
  }
  if (m[0][0] !== m[0][1] || m[1][0] !== m[1][1]) {
    r.problem(key, "nnc's margins are symmetric (top = bottom, left = right)");
  } else if (m[0][0] < 1 || m[1][0] < 1) {
    r.problem(key, "nnc's margins are at least 1 on each axis");
  }
  return m;
}

/** The height and width axes of a rank-4 tensor in an ONNX layout. */
export const spatialAxes = (layout: OnnxLayout): [number, number] => (layout === "nchw" ? [2, 3] : [1, 2]);
