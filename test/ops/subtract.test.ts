// Op `subtract` through every phase (test/ops/merge-cases.ts): tfjs-layers has no Subtract, so its parity is
// that of the Add + Rescaling(-1) pair nnc exports; and Keras' own Subtract class imports, and exactly two
// inputs are taken.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { validateIR } from "../../src/ir/validate.ts";
import { check } from "../../src/compile.ts";
import { importKeras } from "../../src/import/import.ts";
import { kerasTopology } from "../../src/save/keras.ts";
import { program } from "../lower/helpers.ts";
import { mergeSuite } from "./merge-cases.ts";
import { codesOf } from "./phases.ts";

mergeSuite({ op: "subtract", many: false }).run();

const Two = suite("op subtract: Keras Subtract, two inputs");

const SPEC = "input 5\ndense 4 tanh name=a\ndense 4\nsubtract a\ndense 3 softmax";

Two("the export is an Add of a Rescaling(-1); Keras' own Subtract class imports as subtract", async () => {
  const model = program(SPEC).models[0]!;
  const topology = kerasTopology(model, "nnc test") as { config: { layers: Array<Record<string, unknown>> } };
  const classes = topology.config.layers.map((l) => l.class_name);
  assert.ok(classes.includes("Add") && classes.includes("Rescaling"), classes.join(", "));
  // Keras' Subtract: what a Keras model holds, the current tensor minus the Rescaling's input.
  const name = model.layers.find((l) => l.op === "subtract")!.name;
  type Ref = [string, number, number, object];
  const refs = (l: Record<string, unknown> | undefined) => (l!.inbound_nodes as Ref[][])[0]!;
  const negation = topology.config.layers.find((l) => l.class_name === "Rescaling");
  const sum = topology.config.layers.find((l) => l.name === name);
  const inbound = [[refs(sum)[0]!, refs(negation)[0]!]];
  const keras = topology.config.layers
    .filter((l) => l !== negation)
    .map((l) => (l === sum ? { ...l, class_name: "Subtract", inbound_nodes: inbound } : l));
  const json = {
    format: "layers-model",
    modelTopology: { ...topology, config: { ...topology.config, layers: keras } },
  };
  const r = await importKeras(JSON.stringify(json), { filename: "model.json" });
  assert.ok(r.ok, r.diagnostics.map((d) => d.message).join("\n"));
  assert.match(r.text!, /^subtract a$/m);
});

Two("more than one named layer is E204; an IR node with three inputs is E791", () => {
  assert.equal(codesOf("input 5\ndense 4 name=a\ndense 4 name=b\ndense 4\nsubtract a b\ndense 2"), ["E204"]);
  const p = structuredClone(program(SPEC));
  const node = p.models[0]!.layers.find((l) => l.op === "subtract")!;
  node.inputs = [...node.inputs, "a"];
  for (const l of p.models[0]!.layers) delete (l as { outputShape?: unknown }).outputShape;
  assert.equal(validateIR(p).diagnostics, []);
  assert.ok(check(p).diagnostics.some((d) => d.code === "E791" && d.message.includes("got 3")));
});

Two.run();
