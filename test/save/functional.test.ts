// The Keras export of graphs: any model that is not a chain is a functional model, also when every node's first
// input is the node before it (a residual without cross edges), and tfjs-layers builds it from that JSON.
import * as tfl from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compile } from "../../src/compile.ts";
import { kerasTopology } from "../../src/save/keras.ts";
import { useBackend } from "../lower/helpers.ts";

const functional = suite("save: graphs as Keras functional models");
functional.before(() => useBackend("cpu"));

const topologyOf = (text: string) => {
  const r = compile(text);
  assert.ok(r.ok, r.diagnostics.map((d) => d.message).join("; "));
  return kerasTopology(r.program!.models[0]!, "test") as {
    class_name: string;
    config: { layers: unknown[] };
  };
};

functional(
  "a chain is Sequential; a residual or merge whose first input is the node before is Functional",
  async () => {
    assert.is(topologyOf("input 8\ndense 8\ndense 2 softmax").class_name, "Sequential");
    for (const text of [
      "input 8\ndense 8\nresidual { dense 8; relu }\ndense 2 softmax",
      "input 8\ndense 8 name=a\nadd a\ndense 2 softmax",
      "input 8\ndense 8 name=a\nconcat a\ndense 2 softmax",
    ]) {
      const topology = topologyOf(text);
      assert.is(topology.class_name, "Functional", text);
      const model = await tfl.models.modelFromJSON({ modelTopology: topology } as never);
      assert.is(model.layers.length, topology.config.layers.length, text);
      model.dispose();
    }
  },
);

functional.run();
