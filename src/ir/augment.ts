// The IR of image augmentation (`augment` in train): random flips, rotations, zooms and translations with the
// meanings of Keras 3's RandomFlip, RandomRotation, RandomZoom and RandomTranslation
// (keras/src/layers/preprocessing/image_preprocessing/random_*.py, fill_mode="constant" with 0,
// interpolation="bilinear"), and the CIFAR pad-and-crop. Applied to training batches only (src/data/augment.ts).
// Pure: the schema, the words a run header prints, and the text form `vary augment` values are written in.
import { Type, type Static } from "@sinclair/typebox";
import { literals, SpanSchema } from "./common.ts";

/** Keras RandomFlip modes, and none. */
export const FLIPS = ["none", "horizontal", "vertical", "horizontal_and_vertical"] as const;

export const AugmentSchema = Type.Object(
  {
    translate: Type.Optional(
      Type.Number({
        minimum: -1,
        maximum: 1,
        description:
          "Keras RandomTranslation(height_factor=F, width_factor=F): shift by a fraction of the image's height " +
          "and width, each drawn from [-|F|, |F|]",
      }),
    ),
    flip: Type.Optional(
      literals(
        FLIPS,
        "Keras RandomFlip(mode): flip with probability 1/2 (horizontal_and_vertical: both or neither)",
      ),
    ),
    rotate: Type.Optional(
      Type.Number({
        minimum: -360,
        maximum: 360,
        description:
          "Keras RandomRotation(factor=DEG/360): rotate about the image's centre by an angle in degrees drawn " +
          "from [-|DEG|, |DEG|], counter-clockwise for positive angles",
      }),
    ),
    zoom: Type.Optional(
      Type.Number({
        exclusiveMinimum: -1,
        maximum: 1,
        description:
          "Keras RandomZoom(height_factor=F): scale the sampled area by a factor drawn from [1-|F|, 1+|F|] " +
          "(above 1 zooms out), the same for both axes",
      }),
    ),
    crop: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "pad P pixels of zeros on every side and crop a random window of the image's size back",
      }),
    ),
    span: Type.Optional(SpanSchema),
  },
  { additionalProperties: false },
);
export type Augment = Static<typeof AugmentSchema>;

/** The options in the order they are written, described and applied (flip, rotate, zoom, translate, crop). */
export const AUGMENT_KEYS = ["flip", "rotate", "zoom", "translate", "crop"] as const;
export type AugmentKey = (typeof AUGMENT_KEYS)[number];

/** Whether an augmentation changes anything: every option absent, 0 or `flip=none` is no augmentation. */
export function augmentsAnything(a: Augment | undefined): a is Augment {
  if (!a) return false;
  return (a.flip !== undefined && a.flip !== "none") || !!a.rotate || !!a.zoom || !!a.translate || !!a.crop;
}

/**
 * `flip=horizontal crop=2`: the options as written after `augment` (and in a `vary augment` value), in canonical
 * order, only those that change something; "none" for no augmentation.
 */
export function augmentText(a: Augment | undefined): string {
  if (!augmentsAnything(a)) return "none";
  const parts: string[] = [];
  for (const key of AUGMENT_KEYS) {
    const v = a[key];
    if (v === undefined || v === 0 || v === "none") continue;
    parts.push(`${key}=${v}`);
  }
  return parts.join(" ");
}

const percent = (f: number) => `${+(Math.abs(f) * 100).toPrecision(4)}%`;

/** "random horizontal flip, rotation ±15°, ...": the run header's words for an augmentation. */
export function describeAugment(a: Augment | undefined): string {
  if (!augmentsAnything(a)) return "none";
  const parts: string[] = [];
  if (a.flip && a.flip !== "none")
    parts.push(
      a.flip === "horizontal_and_vertical" ? "random 180° flip (both axes)" : `random ${a.flip} flip`,
    );
  if (a.rotate) parts.push(`rotation ±${+Math.abs(a.rotate).toPrecision(6)}°`);
  if (a.zoom) parts.push(`zoom ±${percent(a.zoom)}`);
  if (a.translate) parts.push(`translation ±${percent(a.translate)}`);
  if (a.crop) parts.push(`${a.crop}-pixel pad and random crop`);
  return parts.join(", ");
}

/**
 * A `vary augment` value as experiments read it: `none` ({}), or `key=value` words as augmentText writes them.
 * Undefined for anything else. The checker reads every value with the grammar too (src/check/augment.ts) and
 * requires both readings to agree (E342), so this plain reader never sees what the grammar would read otherwise.
 */
export function readAugmentText(text: string): Augment | undefined {
  const trimmed = text.trim();
  if (trimmed === "none") return {};
  const out: Record<string, string | number> = {};
  for (const word of trimmed.split(/\s+/)) {
    const m = /^([a-z_]+)=([^\s=]+)$/.exec(word);
    if (!m) return undefined;
    const key = m[1] as AugmentKey;
    const raw = m[2]!;
    if (!AUGMENT_KEYS.includes(key) || key in out) return undefined;
    if (key === "flip") {
      if (!(FLIPS as readonly string[]).includes(raw)) return undefined;
      out.flip = raw;
    } else {
      const n = Number(raw);
      if (!Number.isFinite(n)) return undefined;
      out[key] = n;
    }
  }
  return out as Augment;
}
