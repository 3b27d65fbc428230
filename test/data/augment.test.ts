// Image augmentation of training batches (src/data/augment.ts): each transform against a hand computation on a
// small image, with Keras 3's meanings (keras/src/layers/preprocessing/image_preprocessing/random_*.py:
// output pixel p samples the input at M p, bilinear, zeros outside); draws within Keras' ranges; deterministic
// per (seed, epoch, step); labels and sample order untouched.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  affineMap,
  createAugmenter,
  drawImage,
  IDENTITY_DRAW,
  warpImage,
  type ImageDraw,
} from "../../src/data/augment.ts";
import { trainingBatches } from "../../src/data/batches.ts";
import type { Split } from "../../src/data/types.ts";
import { Random } from "../../src/util/random.ts";

/** The image `img` (rows of pixels, one channel) transformed by `draw`, as rows. */
function transform(img: number[][], draw: Partial<ImageDraw>): number[][] {
  const h = img.length;
  const w = img[0]!.length;
  const src = Float32Array.from(img.flat());
  const dst = new Float32Array(h * w).fill(NaN);
  warpImage(src, dst, 0, affineMap({ ...IDENTITY_DRAW, ...draw }, h, w), h, w, 1);
  return Array.from({ length: h }, (_, y) => Array.from(dst.subarray(y * w, (y + 1) * w)));
}

function close(actual: number[][], expected: number[][], tol = 1e-6): void {
  assert.is(actual.length, expected.length);
  actual.forEach((row, y) =>
    row.forEach((v, x) =>
      assert.ok(
        Math.abs(v - expected[y]![x]!) <= tol,
        `pixel (${y}, ${x}): ${v}, expected ${expected[y]![x]} in ${JSON.stringify(actual)}`,
      ),
    ),
  );
}

const IMG = [
  [1, 2, 3],
  [4, 5, 6],
  [7, 8, 9],
];

const Transforms = suite("augment: each transform against a hand computation");

Transforms("translate by exactly one pixel right (Keras: p_in = p - (dx, dy)), zeros come in", () => {
  close(transform(IMG, { tx: 1 }), [
    [0, 1, 2],
    [0, 4, 5],
    [0, 7, 8],
  ]);
  close(transform(IMG, { ty: -1 }), [
    [4, 5, 6],
    [7, 8, 9],
    [0, 0, 0],
  ]);
});

Transforms("translate by half a pixel: bilinear, with a zero neighbour outside the image", () => {
  // x_in = x - 0.5: x=0 reads (0 + 1) / 2 with the left neighbour outside (0).
  close(transform([[1, 2, 3]], { tx: 0.5 }), [[0.5, 1.5, 2.5]]);
});

Transforms("horizontal and vertical flips (Keras RandomFlip)", () => {
  close(transform(IMG, { flipX: true }), [
    [3, 2, 1],
    [6, 5, 4],
    [9, 8, 7],
  ]);
  close(transform(IMG, { flipY: true }), [
    [7, 8, 9],
    [4, 5, 6],
    [1, 2, 3],
  ]);
});

Transforms("a 90 degree rotation is a counter-clockwise quarter turn about the centre, exact", () => {
  // Keras: p_in = R(θ)(p - c) + c, c = ((W-1)/2, (H-1)/2): x_in = 2 - y, y_in = x at θ = 90°.
  const out = transform(IMG, { angle: 90 });
  assert.equal(out, [
    [3, 6, 9],
    [2, 5, 8],
    [1, 4, 7],
  ]);
  // -90: clockwise.
  assert.equal(transform(IMG, { angle: -90 }), [
    [7, 4, 1],
    [8, 5, 2],
    [9, 6, 3],
  ]);
});

Transforms("a 45 degree rotation samples between pixels (bilinear) and fills the corners with zeros", () => {
  // out(0, 0) samples x_in = c + cos45 (0-1) - sin45 (0-1) = 1, y_in = 1 + sin45 (-1) + cos45 (-1) = 1 - √2.
  const s = Math.SQRT1_2;
  const yIn = 1 - 2 * s; // -0.414: between row -1 (zeros) and row 0
  const expected00 = (1 + yIn) * 2; // row 0, column 1 holds 2
  const out = transform(IMG, { angle: 45 });
  close([[out[0]![0]!]], [[expected00]]);
  assert.is(out[1]![1], 5); // the centre stays
});

Transforms("zoom in by 2 (factor 0.5): p_in = 0.5 (p - c) + c, bilinear on a ramp", () => {
  const ramp = Array.from({ length: 5 }, (_, y) => Array.from({ length: 5 }, (_, x) => 10 * y + x));
  const expected = ramp.map((row, y) => row.map((_, x) => 10 * (0.5 * y + 1) + (0.5 * x + 1)));
  close(transform(ramp, { zoom: 0.5 }), expected, 1e-5);
});

Transforms("zoom out by 2 (factor 2): every other pixel, the border zeros", () => {
  const ramp = Array.from({ length: 5 }, (_, y) => Array.from({ length: 5 }, (_, x) => 10 * y + x + 1));
  // p_in = 2p - 2: x = 1, 2, 3 read 0, 2, 4; x = 0 and 4 fall outside.
  const expected = ramp.map((row, y) =>
    row.map((_, x) => (x >= 1 && x <= 3 && y >= 1 && y <= 3 ? ramp[2 * y - 2]![2 * x - 2]! : 0)),
  );
  assert.equal(transform(ramp, { zoom: 2 }), expected);
});

Transforms("crop at a known offset: pad then window = p_in = p + (ox - P, oy - P)", () => {
  const img = Array.from({ length: 4 }, (_, y) => Array.from({ length: 4 }, (_, x) => 4 * y + x + 1));
  // P = 2, window at (ox, oy) = (1, 4): cropX = -1, cropY = 2.
  const expected = img.map((row, y) =>
    row.map((_, x) => (y + 2 < 4 && x - 1 >= 0 ? img[y + 2]![x - 1]! : 0)),
  );
  assert.equal(transform(img, { cropX: -1, cropY: 2 }), expected);
});

Transforms("channels stay together: a flip of a two-channel image", () => {
  const src = Float32Array.from([1, 10, 2, 20, 3, 30]); // 1x3x2
  const dst = new Float32Array(6);
  warpImage(src, dst, 0, affineMap({ ...IDENTITY_DRAW, flipX: true }, 1, 3), 1, 3, 2);
  assert.equal(Array.from(dst), [3, 30, 2, 20, 1, 10]);
});

Transforms(
  "composition: flip then translate samples F(T(p)) (Keras layers in order flip, ..., translate)",
  () => {
    // Sequential: flipped = flip(img), out(p) = flipped(p - t) = img(W-1-(x-1), y).
    const flipped = transform(IMG, { flipX: true });
    const expected = transform(flipped, { tx: 1 });
    assert.equal(transform(IMG, { flipX: true, tx: 1 }), expected);
  },
);

const Draws = suite("augment: draws follow Keras' ranges");

Draws("rotation, zoom, translation and crop stay in range; flips come half the time", () => {
  const rng = new Random(7);
  let flips = 0;
  const crops = new Set<number>();
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const d = drawImage(rng, { flip: "horizontal", rotate: 15, zoom: 0.2, translate: 0.1, crop: 2 }, 20, 30);
    if (d.flipX) flips++;
    assert.not.ok(d.flipY);
    assert.ok(Math.abs(d.angle) <= 15);
    assert.ok(d.zoom >= 0.8 && d.zoom <= 1.2);
    assert.ok(Math.abs(d.ty) <= 2 && Math.abs(d.tx) <= 3, "a fraction of height and of width");
    crops.add(d.cropX).add(d.cropY);
  }
  assert.ok(Math.abs(flips / n - 0.5) < 0.05, `flipped ${flips} of ${n}`);
  assert.equal([...crops].sort(), [-1, -2, 0, 1, 2]);
});

Draws("a negative factor draws as its magnitude (Keras' single-factor rule)", () => {
  const a = drawImage(new Random(3), { rotate: -10, zoom: -0.1 }, 8, 8);
  const b = drawImage(new Random(3), { rotate: 10, zoom: 0.1 }, 8, 8);
  assert.equal(a, b);
});

Draws("horizontal_and_vertical flips both axes on one draw, as Keras does", () => {
  const rng = new Random(1);
  for (let i = 0; i < 100; i++) {
    const d = drawImage(rng, { flip: "horizontal_and_vertical" }, 4, 4);
    assert.is(d.flipX, d.flipY);
  }
});

/** `count` 4x4 images, sample i's pixel j = i + j / 16, label i % 3. */
function imageSplit(count: number): Split {
  const x = new Float32Array(count * 16);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < 16; j++) x[i * 16 + j] = i + j / 16;
    y[i] = i % 3;
  }
  return { x, scale: 1, y, count };
}

/** Every batch of an epoch, copied out of the reused buffers. */
function epoch(split: Split, seed: number, epochNo: number, augmentSeed = seed, augment = true) {
  const augmenter = augment
    ? createAugmenter({ flip: "horizontal", rotate: 20, crop: 1 }, [4, 4, 1], augmentSeed)
    : undefined;
  const out: { x: number[]; y: number[]; indices: number[] }[] = [];
  for (const b of trainingBatches(split, {
    batchSize: 8,
    sampleSize: 16,
    seed,
    epoch: epochNo,
    augment: augmenter,
  }))
    out.push({ x: Array.from(b.x), y: Array.from(b.y), indices: Array.from(b.indices) });
  return out;
}

const Batches = suite("augment: training batches");

Batches("deterministic per seed, different for another seed, epoch or step", () => {
  const split = imageSplit(32);
  const a = epoch(split, 5, 1);
  assert.equal(epoch(split, 5, 1), a);
  const otherSeed = epoch(split, 5, 1, 6);
  assert.not.equal(
    otherSeed.map((b) => b.x),
    a.map((b) => b.x),
  );
  // Epoch 2 reorders the samples too; compare with shuffling equal (same order, other epoch's draws).
  const b0 = trainingBatches(split, { batchSize: 8, sampleSize: 16, seed: 5, epoch: 1 });
  const aug = createAugmenter({ flip: "horizontal", rotate: 20, crop: 1 }, [4, 4, 1], 5)!;
  const first = [...b0][0]!;
  const x1 = Float32Array.from(first.x);
  const x2 = Float32Array.from(first.x);
  aug.apply(x1, 8, 1, 1);
  aug.apply(x2, 8, 2, 1);
  assert.not.equal(Array.from(x1), Array.from(x2), "another epoch draws other transforms");
  const x3 = Float32Array.from(first.x);
  aug.apply(x3, 8, 1, 2);
  assert.not.equal(Array.from(x1), Array.from(x3), "another step draws other transforms");
});

Batches(
  "batch k of epoch e is augmented with the draws of (seed, e, k): what a resumed run recomputes",
  () => {
    const split = imageSplit(30);
    const plain = epoch(split, 4, 2, 4, false);
    const augmented = epoch(split, 4, 2);
    const aug = createAugmenter({ flip: "horizontal", rotate: 20, crop: 1 }, [4, 4, 1], 4)!;
    plain.forEach((b, k) => {
      const x = Float32Array.from(b.x);
      aug.apply(x, b.y.length, 2, k + 1);
      assert.equal(Array.from(x), augmented[k]!.x, `step ${k + 1}`);
    });
  },
);

Batches("labels and sample order are untouched; only the pixels change", () => {
  const split = imageSplit(30);
  const plain = epoch(split, 9, 3, 9, false);
  const augmented = epoch(split, 9, 3);
  assert.equal(
    augmented.map((b) => [b.y, b.indices]),
    plain.map((b) => [b.y, b.indices]),
  );
  assert.not.equal(
    augmented.map((b) => b.x),
    plain.map((b) => b.x),
  );
});

Batches(
  "an augmentation that changes nothing makes no augmenter; non-images and large crops are refused",
  () => {
    assert.is(createAugmenter(undefined, [4, 4, 1], 0), undefined);
    assert.is(createAugmenter({}, [4, 4, 1], 0), undefined);
    assert.is(createAugmenter({ flip: "none", rotate: 0 }, [4, 4, 1], 0), undefined);
    assert.throws(() => createAugmenter({ flip: "horizontal" }, [16], 0), /image input/);
    assert.throws(() => createAugmenter({ crop: 4 }, [4, 8, 1], 0), /crop=4/);
    assert.ok(createAugmenter({ crop: 3 }, [4, 8], 0), "a 2-D input is a one-channel image");
  },
);

Transforms.run();
Draws.run();
Batches.run();
