// Labels outside the model's output units are refused (E506) wherever training starts: checkLabels itself, and
// CompiledModel.fit through the public API, which does not go through loadDataset's model check.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkLabels, loadDataset, outputClasses } from "../../src/data/index.ts";
import { compile } from "../../src/index.ts";
import { failsWith } from "../helpers.ts";

const labels = suite("data: checkLabels");

labels("E506 names the first label outside 0..classes-1, its index and the file", async () => {
  const split = { x: new Float32Array(5), scale: 1, y: Uint8Array.from([0, 2, 1, 7, 9]), count: 5 };
  checkLabels(split, 10, "digits");
  const d = await failsWith("E506", () => checkLabels(split, 5, "digits"));
  assert.is(d.message, "digits: label 7 at sample 3 is outside the model's 5 classes (0..4)");
  const fromFile = await failsWith("E506", () =>
    checkLabels({ ...split, origin: "/data/labels.idx" }, 2, "idx:/data", { notes: ["which model"] }),
  );
  assert.match(fromFile.message, "/data/labels.idx: label 2 at sample 1");
  assert.equal(fromFile.notes, ["which model"]);
  // Only `count` samples are labels: a longer buffer's tail is not looked at.
  checkLabels({ ...split, count: 3 }, 3, "digits");
  const negative = { x: new Float32Array(2), scale: 1, y: Int32Array.from([0, -1]), count: 2 };
  assert.match((await failsWith("E506", () => checkLabels(negative, 3, "rows.csv"))).message, "label -1");
});

labels("outputClasses: the output's units; one sigmoid unit is two classes", () => {
  const program = (out: string) => compile(`input 4\ndense ${out}`).program!.models[0]!;
  assert.is(outputClasses(program("5 softmax")), 5);
  assert.is(outputClasses(program("1 sigmoid")), 2);
});

const fit = suite("data: fit refuses labels past the output");

fit("a 5-unit model on mnist through the API is E506, before any step", async () => {
  const compiled = compile("input 28x28\nflatten\ndense 5 softmax\ntrain { data mnist limit=64; epochs 1 }");
  assert.ok(compiled.ok);
  const model = await compiled.build({ backend: "cpu" });
  const data = await loadDataset(compiled.program!.train.data);
  let steps = 0;
  const d = await failsWith("E506", model.fit(data, { onBatchEnd: () => steps++ }));
  assert.match(d.message, /^mnist: label [5-9] at sample \d+ is outside the model's 5 classes \(0\.\.4\)$/);
  assert.is(steps, 0);
  // The same model trains on labels it can represent.
  const fewer = (s: typeof data.train) => {
    const keep = [...s.y.keys()].filter((i) => s.y[i]! < 5);
    return {
      x: Float32Array.from(keep.flatMap((i) => [...s.x.subarray(i * 784, (i + 1) * 784)])),
      scale: s.scale,
      y: Uint8Array.from(keep.map((i) => s.y[i]!)),
      count: keep.length,
    };
  };
  const history = await model.fit({ ...data, train: fewer(data.train), validation: fewer(data.validation) });
  assert.is(history.epochs.length, 1);
  model.dispose();
});

labels.run();
fit.run();
