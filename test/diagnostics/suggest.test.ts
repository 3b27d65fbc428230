import { suite } from "uvu";
import * as assert from "uvu/assert";
import { closest } from "../../src/diagnostics/suggest.ts";

const ops = ["dense", "relu", "batchnorm", "model", "softmax", "conv2d", "maxpool"];
const suggest = suite("did you mean");

suggest("one edit, and one adjacent swap, find the name", () => {
  assert.is(closest("dence", ops), "dense");
  assert.is(closest("rleu", ops), "relu");
  assert.is(closest("modle", ops), "model");
  assert.is(closest("batchnrom", ops), "batchnorm");
  assert.is(closest("Softmax", ops), "softmax");
});

suggest("far-off names and exact matches suggest nothing", () => {
  assert.is(closest("x", ops), undefined);
  assert.is(closest("lstm", ops), undefined);
  assert.is(closest("dense", ops), undefined);
});

suggest.run();
