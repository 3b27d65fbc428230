import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  FASHION_MNIST_CLASSES,
  fashionMnistInstalled,
  loadFashionMnist,
} from "../../src/data/fashion-mnist.ts";
import { loadDataset } from "../../src/data/load.ts";
import { classCounts } from "../../src/data/split.ts";
import { describeDataset } from "../../src/data/describe.ts";
import { failsWith } from "../helpers.ts";

const Fashion = suite("fashion-mnist");

Fashion("without the Debian package it is E501 naming the apt-get command", async () => {
  const d = await failsWith("E501", loadFashionMnist(255, "/nonexistent/fashion-mnist"));
  assert.match(d.message, "apt-get install dataset-fashion-mnist");
});

if (fashionMnistInstalled()) {
  Fashion("60,000 train / 10,000 test images of shape [28,28], labels 0..9, values in [0,1]", async () => {
    const ds = await loadDataset(
      { source: "fashion-mnist" },
      { expect: { inputShape: [28, 28, 1], numClasses: 10 } },
    );
    assert.equal(ds.sampleShape, [28, 28]);
    assert.is(ds.train.count, 60000);
    assert.is(ds.validation.count, 10000);
    assert.is(ds.train.x.length, 60000 * 784);
    assert.equal(ds.classNames, FASHION_MNIST_CLASSES);
    assert.equal(classCounts(ds.train.y, 10), new Array(10).fill(6000));
    assert.equal(classCounts(ds.validation.y, 10), new Array(10).fill(1000));
    // Kept as the files' bytes (47 MB, not 188 MB of float32), each split its own copy or view, scaled by 255
    // when rows are copied out.
    assert.instance(ds.train.x, Uint8Array);
    assert.instance(ds.validation.x, Uint8Array);
    assert.is(ds.train.scale, 255);
    assert.is(
      ds.train.x.buffer.byteLength < 60000 * 784 + 64,
      true,
      "a view of the inflated file, no float copy",
    );
    let max = 0;
    for (const v of ds.validation.x) if (v > max) max = v;
    assert.is(max, 255);
    assert.equal(describeDataset(ds).valueRange, { min: 0, max: 1 });
  });
} else {
  Fashion("fashion-mnist data (skipped)", () => {
    console.log("skipped: dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)");
    assert.not.ok(fashionMnistInstalled());
  });
}

Fashion.run();
