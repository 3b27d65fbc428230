// A model.json's leading Rescaling read from a hostile file (review of issue 18): inbound_nodes nested 200,000
// deep overflowed the stack (exit 70 from load, eval, predict, export), and a subnormal scale made an infinite
// divisor that predict and export used without a word. Both end in a named error or a plain reading now.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { inputScaleOf } from "../../src/save/input-scale.ts";
import { failsWith } from "../helpers.ts";

const functional = (inbound: unknown, scale = 1 / 255) => ({
  class_name: "Functional",
  config: {
    name: "m",
    layers: [
      {
        class_name: "InputLayer",
        name: "input",
        config: { name: "input", batch_input_shape: [null, 4] },
        inbound_nodes: [],
      },
      {
        class_name: "Rescaling",
        name: "rescaling",
        config: { name: "rescaling", scale, offset: 0 },
        inbound_nodes: [[["input", 0, 0, {}]]],
      },
      { class_name: "Dense", name: "dense", config: { name: "dense", units: 2 }, inbound_nodes: inbound },
    ],
    input_layers: [["input", 0, 0]],
    output_layers: [["dense", 0, 0]],
  },
});

const S = suite("input scale of a hostile model.json");

S("inbound_nodes nested 200,000 deep: read, no stack overflow", () => {
  let deep: unknown = [["rescaling", 0, 0, {}]];
  for (let i = 0; i < 200_000; i++) deep = [deep];
  assert.is(inputScaleOf(functional(deep)), 255);
  assert.is(inputScaleOf(functional([[["rescaling", 0, 0, {}]]])), 255);
});

S("a scale whose inverse is not finite (1e-320) is E770", async () => {
  const d = await failsWith("E770", async () =>
    inputScaleOf(functional([[["rescaling", 0, 0, {}]]], 1e-320)),
  );
  assert.match(d.message, "whose inverse is not finite");
});

S.run();
