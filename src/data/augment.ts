// Data layer: image augmentation of training batches, in place in the batch buffer as the batch is built
// (batches.ts), in JS: one affine map per image, sampled once (bilinear, zeros outside), or copied by index
// where the map is integral (flips, crops, whole-pixel shifts). No tfjs.
//
// Meanings are Keras 3's (keras/src/layers/preprocessing/image_preprocessing/): each layer maps an output pixel
// p = (x, y) to the input point it samples, through an affine map (ops.image.affine_transform's
// [a0 a1 a2 b0 b1 b2] with x_in = a0 x + a1 y + a2, y_in = b0 x + b1 y + b2), with fill_mode="constant"
// (fill_value 0) and interpolation="bilinear":
//   RandomFlip (random_flip.py): x_in = (W-1) - x and/or y_in = (H-1) - y, with probability 1/2 (uniform <= 0.5);
//     "horizontal_and_vertical" flips both axes or neither, on one draw.
//   RandomRotation (random_rotation.py, base layer's _compute_affine_matrix): angle θ uniform in [-f, f]*360
//     degrees, about c = ((W-1)/2, (H-1)/2): p_in = [[cos θ, -sin θ], [sin θ, cos θ]] (p - c) + c.
//   RandomZoom (random_zoom.py, _get_zoom_matrix): z uniform in [1-f, 1+f], width_factor=None (one z for both
//     axes): p_in = z (p - c) + c.
//   RandomTranslation (random_translation.py, _get_translation_matrix): dy = u H, dx = v W with u, v uniform in
//     [-f, f] (height first): p_in = p - (dx, dy).
// Several options are Keras' layers applied in that order (flip, rotate, zoom, translate), then the crop, as one
// composed map interpolated once (a Sequential of Keras layers interpolates after each; for one option they are
// the same). The crop pads P zeros per side and takes a window at offset (ox, oy) uniform in 0..2P:
// p_in = p + (ox - P, oy - P).
//
// Randomness: a stream per (seed, epoch, step) (Random.fork), drawn image by image in batch order, so a batch
// is augmented the same whoever trains it (one thread or two: the main thread augments the whole batch before
// the split) and a resumed run draws what an uninterrupted one does.
import { augmentsAnything, type Augment } from "../ir/augment.ts";
import { Random } from "../util/random.ts";

/** One image's draw. */
export interface ImageDraw {
  flipX: boolean;
  flipY: boolean;
  /** Degrees, counter-clockwise. */
  angle: number;
  /** Keras' zoom factor: above 1 samples a larger area (zooms out). */
  zoom: number;
  /** Keras' translation in pixels: the image moves right by tx and down by ty. */
  tx: number;
  ty: number;
  /** Crop window offset minus the padding, in -P..P: p_in = p + (cropX, cropY). */
  cropX: number;
  cropY: number;
}

export const IDENTITY_DRAW: ImageDraw = {
  flipX: false,
  flipY: false,
  angle: 0,
  zoom: 1,
  tx: 0,
  ty: 0,
  cropX: 0,
  cropY: 0,
};

/** An affine map from output pixel to input point: x_in = a0 x + a1 y + a2, y_in = b0 x + b1 y + b2. */
export type AffineMap = [number, number, number, number, number, number];

/** The image shape an augmentation works on: [height, width] or [height, width, channels]; else undefined. */
export function imageShape(inputShape: readonly number[]): { h: number; w: number; c: number } | undefined {
  if (inputShape.length === 2) return { h: inputShape[0]!, w: inputShape[1]!, c: 1 };
  if (inputShape.length === 3) return { h: inputShape[0]!, w: inputShape[1]!, c: inputShape[2]! };
  return undefined;
}

/** Draws one image's transform from `rng`, in a fixed order: flip, rotate, zoom, translate, crop. */
export function drawImage(rng: Random, a: Augment, h: number, w: number): ImageDraw {
  const d = { ...IDENTITY_DRAW };
  switch (a.flip) {
    case "horizontal":
      d.flipX = rng.next() <= 0.5;
      break;
    case "vertical":
      d.flipY = rng.next() <= 0.5;
      break;
    case "horizontal_and_vertical":
      d.flipX = d.flipY = rng.next() <= 0.5;
      break;
  }
  // A single Keras factor f means [-|f|, |f|].
  if (a.rotate) d.angle = rng.uniform(-Math.abs(a.rotate), Math.abs(a.rotate));
  if (a.zoom) d.zoom = rng.uniform(1 - Math.abs(a.zoom), 1 + Math.abs(a.zoom));
  if (a.translate) {
    const f = Math.abs(a.translate);
    d.ty = rng.uniform(-f, f) * h;
    d.tx = rng.uniform(-f, f) * w;
  }
  if (a.crop) {
    d.cropY = rng.int(2 * a.crop + 1) - a.crop;
    d.cropX = rng.int(2 * a.crop + 1) - a.crop;
  }
  return d;
}

/** Within this of an integer, a coefficient is that integer (cos 90° is 6e-17): exact 90° turns, index copies. */
const SNAP = 1e-9;
const snap = (v: number) => {
  const r = Math.round(v);
  return Math.abs(v - r) < SNAP ? r : v;
};

/** The composed output -> input map of a draw on an h x w image: F(R(Z(T(C(p))))). */
export function affineMap(d: ImageDraw, h: number, w: number): AffineMap {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  // m maps p to the current point; each stage g(q) = A q + t makes m <- g o m.
  let [a0, a1, a2, b0, b1, b2] = [1, 0, d.cropX, 0, 1, d.cropY];
  const apply = (p00: number, p01: number, p10: number, p11: number, t0: number, t1: number) => {
    [a0, a1, a2, b0, b1, b2] = [
      p00 * a0 + p01 * b0,
      p00 * a1 + p01 * b1,
      p00 * a2 + p01 * b2 + t0,
      p10 * a0 + p11 * b0,
      p10 * a1 + p11 * b1,
      p10 * a2 + p11 * b2 + t1,
    ];
  };
  if (d.tx !== 0 || d.ty !== 0) apply(1, 0, 0, 1, -d.tx, -d.ty);
  if (d.zoom !== 1) apply(d.zoom, 0, 0, d.zoom, cx * (1 - d.zoom), cy * (1 - d.zoom));
  if (d.angle !== 0) {
    const t = (d.angle * Math.PI) / 180;
    const cos = Math.cos(t);
    const sin = Math.sin(t);
    // R (q - c) + c
    apply(cos, -sin, sin, cos, cx - cos * cx + sin * cy, cy - sin * cx - cos * cy);
  }
  if (d.flipX) apply(-1, 0, 0, 1, w - 1, 0);
  if (d.flipY) apply(1, 0, 0, -1, 0, h - 1);
  return [snap(a0), snap(a1), snap(a2), snap(b0), snap(b1), snap(b2)];
}

const isIdentity = (m: AffineMap) =>
  m[0] === 1 && m[1] === 0 && m[2] === 0 && m[3] === 0 && m[4] === 1 && m[5] === 0;

/**
 * Writes the image `src` (h x w x c, channels last) resampled through `m` into `dst` at `offset`: bilinear,
 * points outside the image read 0 (Keras fill_mode="constant", scipy map_coordinates order 1 over a zero-padded
 * image). Integral maps copy by index (the bilinear weights there are exactly 1 and 0).
 */
export function warpImage(
  src: Float32Array,
  dst: Float32Array,
  offset: number,
  m: AffineMap,
  h: number,
  w: number,
  c: number,
): void {
  const [a0, a1, a2, b0, b1, b2] = m;
  if (m.every(Number.isInteger)) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sx = a0 * x + a1 * y + a2;
        const sy = b0 * x + b1 * y + b2;
        const o = offset + (y * w + x) * c;
        if (sx < 0 || sx >= w || sy < 0 || sy >= h) {
          for (let k = 0; k < c; k++) dst[o + k] = 0;
        } else {
          const s = (sy * w + sx) * c;
          for (let k = 0; k < c; k++) dst[o + k] = src[s + k]!;
        }
      }
    }
    return;
  }
  for (let y = 0; y < h; y++) {
    // Along a row the input point moves by (a0, b0) per pixel.
    let sx = a1 * y + a2;
    let sy = b1 * y + b2;
    for (let x = 0; x < w; x++, sx += a0, sy += b0) {
      const o = offset + (y * w + x) * c;
      if (!(sx > -1 && sx < w && sy > -1 && sy < h)) {
        for (let k = 0; k < c; k++) dst[o + k] = 0;
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      // Weights of the four neighbours; one outside the image contributes 0.
      const inX0 = x0 >= 0;
      const inX1 = x0 + 1 < w;
      const inY0 = y0 >= 0;
      const inY1 = y0 + 1 < h;
      const w00 = inX0 && inY0 ? (1 - fx) * (1 - fy) : 0;
      const w10 = inX1 && inY0 ? fx * (1 - fy) : 0;
      const w01 = inX0 && inY1 ? (1 - fx) * fy : 0;
      const w11 = inX1 && inY1 ? fx * fy : 0;
      const s00 = (y0 * w + x0) * c;
      const s10 = s00 + c;
      const s01 = s00 + w * c;
      const s11 = s01 + c;
      for (let k = 0; k < c; k++) {
        let v = 0;
        if (w00 !== 0) v += w00 * src[s00 + k]!;
        if (w10 !== 0) v += w10 * src[s10 + k]!;
        if (w01 !== 0) v += w01 * src[s01 + k]!;
        if (w11 !== 0) v += w11 * src[s11 + k]!;
        dst[o + k] = v;
      }
    }
  }
}

/** Augments training batches in place; made once per run. */
export interface Augmenter {
  /** The augmentation of `rows` images at the start of `x`, as step `step` (1-based) of `epoch` draws it. */
  apply(x: Float32Array, rows: number, epoch: number, step: number): void;
}

/** The stream a batch's draws come from: a function of (seed, epoch, step) alone. */
export const augmentStream = (seed: number, epoch: number, step: number): Random =>
  new Random(seed).fork(`augment:${epoch}:${step}`);

/**
 * An augmenter for images of `inputShape` ([h, w] or [h, w, c]), or undefined when `augment` changes nothing.
 * Throws a RangeError for a shape that is no image or a crop as large as the image (the checker reports both,
 * E340 and E341, and fit turns them into E647).
 */
export function createAugmenter(
  augment: Augment | undefined,
  inputShape: readonly number[],
  seed: number,
): Augmenter | undefined {
  if (!augmentsAnything(augment)) return undefined;
  const shape = imageShape(inputShape);
  if (!shape)
    throw new RangeError(
      `augmentation needs image input (height x width [x channels]), got ${inputShape.join("x")}`,
    );
  const { h, w, c } = shape;
  if (augment.crop && augment.crop >= Math.min(h, w))
    throw new RangeError(`crop=${augment.crop} is not smaller than the image's side (${h}x${w})`);
  const size = h * w * c;
  const scratch = new Float32Array(size);
  return {
    apply(x, rows, epoch, step) {
      const rng = augmentStream(seed, epoch, step);
      for (let i = 0; i < rows; i++) {
        const m = affineMap(drawImage(rng, augment, h, w), h, w);
        if (isIdentity(m)) continue;
        const offset = i * size;
        scratch.set(x.subarray(offset, offset + size));
        warpImage(scratch, x, offset, m, h, w, c);
      }
    },
  };
}
