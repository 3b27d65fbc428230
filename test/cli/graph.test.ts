// A residual network through every command a user runs: check, summary, train, resume, eval, predict, and
// the saved functional model loaded by tf.loadLayersModel (the folded inference export too). Small slices of
// the embedded digits on the cpu backend, so it stays fast.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { load } from "../../src/api.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { loadKerasModel } from "../save/keras-loader.ts";

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const tmp = mkdtempSync(join(tmpdir(), "nnc-graph-"));
const spec = join(tmp, "tiny-resnet.nn");
writeFileSync(
  spec,
  `block basic(filters, stride=1) {
  conv2d filters 3x3 stride=stride padding=same bias=false
  batchnorm
  relu
  conv2d filters 3x3 padding=same bias=false
  batchnorm
}
model tiny {
  input 28x28x1
  conv2d 4 3x3 stride=2 padding=same bias=false name=stem; batchnorm; relu
  residual { basic 4 }
  relu
  residual { basic 8 stride=2; shortcut { conv2d 8 1x1 stride=2 bias=false; batchnorm } }
  relu
  conv2d 8 1x1 name=side
  relu
  concat side
  globalavgpool
  dense 10 softmax
}
train {
  data mnist limit=256
  batch 32
  epochs 1
}
`,
);
const out = join(tmp, "run");
const common = ["--backend", "cpu"];

const graph = suite("a residual network through the CLI");

graph("check and summary: a graph, with each layer's inputs", async () => {
  assert.is((await nnc("check", spec)).code, 0);
  const r = await nnc("summary", spec);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Connected to/);
  assert.match(r.stdout, /add \(Add\)\s+\(None, 14, 14, 4\)\s+0\s+batch_normalization_2, activation\n/);
  assert.match(r.stdout, /concatenate \(Concatenate\)\s+\(None, 7, 7, 16\)\s+0\s+activation_5, side\n/);
});

graph("trains, resumes to a second epoch, evaluates and predicts", async () => {
  const first = await nnc("train", spec, ...common, "--out", out);
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stderr, /epoch 1\/1 .*val_acc/);
  const more = await nnc("train", spec, ...common, "--epochs", "2", "--out", out, "--resume");
  assert.is(more.code, 0, more.stderr);
  assert.match(more.stderr, /epoch 2\/2/);
  const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
  assert.is(history.epochs.length, 2);
  const evaluated = await nnc("eval", out, ...common, "--limit", "64", "--json");
  assert.is(evaluated.code, 0, evaluated.stderr);
  const { accuracy, samples } = JSON.parse(evaluated.stdout);
  assert.ok(accuracy >= 0 && accuracy <= 1 && samples > 0);
  const predicted = await nnc("predict", out, ...common, "--limit", "3");
  assert.is(predicted.code, 0, predicted.stderr);
  assert.match(predicted.stdout, /predicted \d/);
});

graph(
  "tf.loadLayersModel of the saved functional model (and of the folded export) predicts what nnc does",
  async () => {
    const topology = JSON.parse(readFileSync(join(out, "model.json"), "utf8")).modelTopology;
    assert.is(topology.class_name, "Functional");
    const model = await load(out, { backend: "cpu" });
    const keras = await loadKerasModel(out);
    const folded = await loadKerasModel(join(out, "inference"));
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, "float32", 7);
    const ours = model.predict(x).dataSync();
    for (const other of [keras, folded]) {
      const theirs = (other.predict(x) as tf.Tensor).dataSync();
      const worst = Math.max(...Array.from(ours, (v, i) => Math.abs(v - theirs[i]!)));
      assert.ok(worst < 1e-5, `max difference ${worst}`);
    }
    // The folded export has fewer layers: each batchnorm fed only by a convolution folds into it.
    assert.ok(folded.layers.length < keras.layers.length);
    x.dispose();
    model.dispose();
  },
);

graph.run();
