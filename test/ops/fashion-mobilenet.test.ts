// specs/fashion-mobilenet.nn, the MobileNet-style network of issue 20: nnc's parameter counts (what `nnc summary`
// prints) equal those of the same networks built with tfjs-layers' API, layer by layer, for both ways of writing a
// depthwise separable block; and its Layers export loads in tfjs-layers with equal predictions.
import { readFileSync } from "node:fs";
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { program, useBackend } from "../lower/helpers.ts";
import { kerasParity } from "./parity.ts";

const Spec = suite("specs/fashion-mobilenet.nn");
Spec.before(() => useBackend("wasm"));
const source = readFileSync(new URL("../../specs/fashion-mobilenet.nn", import.meta.url), "utf8");

/** The spec's network with tfjs-layers' API: MobileNet v1 blocks, or one SeparableConv2D per block. */
function kerasModel(separable: boolean): tfl.LayersModel {
  const layers: tfl.layers.Layer[] = [
    tfl.layers.conv2d({
      filters: 16,
      kernelSize: 3,
      strides: 2,
      padding: "same",
      useBias: false,
      inputShape: [28, 28, 1],
    }),
    tfl.layers.batchNormalization(),
    tfl.layers.activation({ activation: "relu" }),
  ];
  for (const [filters, strides] of [
    [32, 1],
    [64, 2],
    [128, 1],
  ] as const) {
    if (separable) {
      layers.push(
        tfl.layers.separableConv2d({ filters, kernelSize: 3, strides, padding: "same", useBias: false }),
      );
    } else {
      layers.push(
        tfl.layers.depthwiseConv2d({ kernelSize: 3, strides, padding: "same", useBias: false }),
        tfl.layers.batchNormalization(),
        tfl.layers.activation({ activation: "relu" }),
        tfl.layers.conv2d({ filters, kernelSize: 1, useBias: false }),
      );
    }
    layers.push(tfl.layers.batchNormalization(), tfl.layers.activation({ activation: "relu" }));
  }
  layers.push(tfl.layers.globalAveragePooling2d({}), tfl.layers.dense({ units: 10, activation: "softmax" }));
  return tfl.sequential({ layers });
}

for (const [name, separable] of [
  ["mobilenet", false],
  ["mobilenet_sep", true],
] as const) {
  Spec(`${name}: parameter counts equal tfjs-layers' API model, layer by layer`, () => {
    const model = program(source).models.find((m) => m.name === name)!;
    const ours = model.layers.slice(1).map((l) => (l.params?.trainable ?? 0) + (l.params?.nonTrainable ?? 0));
    const keras = kerasModel(separable);
    assert.equal(
      ours,
      keras.layers.map((l) => l.countParams()),
    );
    assert.is(
      ours.reduce((a, b) => a + b, 0),
      keras.countParams(),
    );
    keras.dispose();
  });
}

Spec("its Layers export predicts what nnc predicts (mobilenet)", async () => {
  const parity = await kerasParity(source);
  for (const l of parity.layers) assert.is(l.tfjsParams, l.nncParams, l.name);
  assert.ok(parity.maxAbs > 1e-3 && parity.maxDiff < 1e-5, `predictions differ by ${parity.maxDiff}`);
});

Spec.run();
