// Building the IR: the `augment` train statement's signature (image augmentation of training batches, Keras 3's
// RandomFlip / RandomRotation / RandomZoom / RandomTranslation meanings, src/ir/augment.ts), its IR, and the
// same options written as a `vary augment` value ("flip=horizontal crop=2"), read with the grammar and binder
// every statement goes through, so a value means exactly what it means after `augment`.
import { FLIPS, type Augment } from "../ir/augment.ts";
import { int, num, oneOf, type Signature } from "../ops/signature.ts";

export const AUGMENT_SIGNATURE: Signature = {
  name: "augment",
  context: "train",
  doc:
    "image augmentation of the training batches only (never validation, evaluation or exact batchnorm " +
    "statistics; labels untouched): each image of a batch gets its own random transform, drawn from a stream " +
    "of (seed, epoch, step), so runs with one seed are equal, resumed or on two threads. Keras 3's " +
    "preprocessing layers with fill_mode='constant' (zeros) and interpolation='bilinear', applied in the order " +
    "flip, rotate, zoom, translate, then the crop, and interpolated once. Needs image input (HxW or HxWxC). A " +
    "flip that changes what an image means (digits, text) is for you to judge. `augment none` (e.g. in an " +
    "experiment's train block) turns it off. An experiment compares augmentations with `vary augment none " +
    '"flip=horizontal crop=2" "rotate=10 zoom=0.1"`: each value is none or the options of an augment ' +
    "statement, in quotes. Keras equivalent: the same layers at the start of the model (active in training " +
    "only), e.g. keras.Sequential([RandomFlip('horizontal'), RandomRotation(10/360, fill_mode='constant'), " +
    "...])",
  positional: [
    {
      name: "MODE",
      type: oneOf(["none"]),
      doc: "none: no augmentation (instead of options)",
    },
  ],
  options: [
    {
      name: "flip",
      type: oneOf(FLIPS),
      doc:
        "keras.layers.RandomFlip(mode): flip left-right (horizontal), top-bottom (vertical) or both at once " +
        "(horizontal_and_vertical), each image with probability 1/2",
      default: "none",
      field: "flip",
    },
    {
      name: "rotate",
      type: num({ min: -360, max: 360 }),
      doc:
        "keras.layers.RandomRotation(factor=DEG/360): rotate about the centre by an angle drawn from " +
        "[-DEG, DEG] degrees (positive: counter-clockwise); DEG in [-360, 360], its sign ignored",
      default: 0,
      field: "rotate",
    },
    {
      name: "zoom",
      type: num({ min: -1, max: 1, minExclusive: true }),
      doc:
        "keras.layers.RandomZoom(height_factor=F): sample an area scaled by a factor drawn from [1-F, 1+F] " +
        "about the centre, one factor for both axes (above 1 zooms out, below 1 zooms in); F in (-1, 1], its " +
        "sign ignored",
      default: 0,
      field: "zoom",
    },
    {
      name: "translate",
      type: num({ min: -1, max: 1 }),
      doc:
        "keras.layers.RandomTranslation(height_factor=F, width_factor=F): shift down by a fraction of the " +
        "height and right by a fraction of the width, each drawn from [-F, F] (negative: up, left); F in " +
        "[-1, 1], its sign ignored",
      default: 0,
      field: "translate",
    },
    {
      name: "crop",
      type: int(0),
      doc:
        "pad P pixels of zeros on every side and crop a random window of the image's size back (the CIFAR " +
        "standard, e.g. crop=4 on 32x32): a shift by a whole number of pixels in -P..P on each axis; P " +
        "smaller than the image's sides",
      default: 0,
      field: "crop",
    },
  ],
};

/** The option values given, as the IR's augment (no span); undefined for `augment none`. */
export function augmentFromValues(values: ReadonlyMap<string, unknown>): Augment {
  const out: Augment = {};
  for (const key of ["flip", "rotate", "zoom", "translate", "crop"] as const) {
    const v = values.get(key);
    if (v !== undefined) (out as Record<string, unknown>)[key] = v;
  }
  return out;
}
