// Building the IR: the language reference, rendered as markdown from the signature table (signatures.ts),
// so the README documents exactly what the builder accepts. The README author calls renderLanguageReference().
import { SCHEDULES_REFERENCE } from "./schedule-reference.ts";
import { MAX_GRID_CELLS } from "../experiment/grid.ts";
import {
  EXPERIMENT_SIGNATURES,
  LAYER_SIGNATURES,
  TRAIN_SIGNATURES,
  metavar,
  usage,
  type Signature,
} from "./signatures.ts";

const code = (text: string) => "`" + text + "`";
const cell = (text: string) => text.replace(/\|/g, "\\|");

function renderSignature(sig: Signature): string {
  const lines = [`#### ${code(sig.name)}`, "", sig.doc + ".", "", "```", usage(sig), "```"];
  const params = [...sig.positional, ...sig.options];
  if (params.length > 0) {
    lines.push("", "| argument | type | default | meaning |", "| --- | --- | --- | --- |");
    for (const p of params) {
      const isOption = sig.options.includes(p);
      const name = isOption ? code(`${p.name}=`) : code(p.variadic ? `${p.name}...` : p.name);
      const dflt = p.default === undefined ? (p.required ? "required" : "—") : code(String(p.default));
      lines.push(`| ${name} | ${cell(code(metavar(p.type)))} | ${dflt} | ${cell(p.doc)} |`);
    }
  }
  return lines.join("\n");
}

/**
 * The graph constructs: blocks of layers rather than statements, so not in the signature table. Written here,
 * beside the table's sections, and checked by the builder's tests (test/build/graph.test.ts).
 */
const GRAPHS = `### Graphs: names, \`residual\`, \`shortcut\`, \`repeat\`, \`block\`

A model is a graph. Each layer statement takes the current tensor (the output of the statement before it), and
three block forms and two ops make the other edges:

- \`add NAME...\` adds the current tensor and the outputs of the named earlier layers (equal shapes); \`concat
  NAME... [axis=-1]\` joins them along an axis (equal shapes except on that axis). Layers are named with
  \`name=NAME\`; a name must belong to an earlier layer of the same model, or of the same block use or \`repeat\`
  pass (E218 for an unknown name, with a did-you-mean; E219 for a later layer; E310 where the shapes do not fit).
- \`residual { BODY }\` outputs \`x + BODY(x)\`, where \`x\` is the residual's input. An optional \`shortcut {
  LAYERS }\` inside it gives the skip path instead of the identity: \`SHORTCUT(x) + BODY(x)\`. Where the shapes
  differ the error names both and suggests a projection, e.g. \`shortcut { conv2d 32 1x1 stride=2 bias=false;
  batchnorm }\`.
- \`repeat N { BODY }\` repeats BODY N times in sequence (1 <= N <= 20000; a model holds at most 20,000 layers after
  expansion, E224). A name given inside the body names that pass's layer (\`add NAME\` in the body finds it) and
  is not seen after the repeat.
- \`block NAME(PARAM, PARAM=DEFAULT, ...) { BODY }\` at the top level of a file defines a reusable block. In its
  body a bare word equal to a parameter's name is that parameter's value (\`conv2d filters 3x3 stride=stride\`).
  A block is used like a layer: \`NAME ARG... PARAM=VALUE...\`, positional arguments in the parameters' order,
  defaults where not given; a missing, unknown or repeated argument is E203, E201, E204 or E205, and a value of
  the wrong type is reported where the use gives it. A block may use other blocks, not itself (E221); a block or
  parameter may not take the name of a statement, a block keyword or an option value such as \`same\` (E222). A
  name given inside a block is local to each use. In the IR, names given inside a repeat or a block use are made
  unique as Keras names layers: the first keeps the name, later ones take \`_1\`, \`_2\`, ... (\`skip\`, \`skip_1\`).

Every block use and \`repeat\` is expanded: the IR holds plain nodes, each listing its inputs, with the span of
its source line and of the uses it came from (\`expandedFrom\`). Layers get Keras' names in order of
expansion (\`conv2d_3\`, \`add_1\`), and \`nnc summary\` shows each layer's inputs for a graph. Experiments
compare graph models as any others; \`vary\` takes no block arguments, since experiments vary the IR and blocks
are gone from it by then: a variant with other arguments is a model of its own, compared with \`compare\`.

\`\`\`
block basic(filters, stride=1) {
  conv2d filters 3x3 stride=stride padding=same bias=false
  batchnorm
  relu
  conv2d filters 3x3 padding=same bias=false
  batchnorm
}
model resnet {
  input 28x28x1
  conv2d 16 3x3 padding=same bias=false; batchnorm; relu
  repeat 2 { residual { basic 16 }; relu }
  residual { basic 32 stride=2; shortcut { conv2d 32 1x1 stride=2 bias=false; batchnorm } }
  relu
  globalavgpool
  dense 10 softmax
}
\`\`\`
`;

/** The language reference (layers, graphs, train settings, experiment settings) as markdown. */
export function renderLanguageReference(): string {
  const section = (title: string, intro: string, sigs: Signature[]) =>
    [`### ${title}`, "", intro, "", ...sigs.map((s) => renderSignature(s) + "\n")].join("\n");
  return [
    section(
      "Layers",
      "Layer statements, one per line (or separated by `;`), in a `model NAME { ... }` block or, for a file " +
        "with one model, at the top level. The first layer is `input`. Every layer takes `name=NAME`; by " +
        "default layers are named as Keras names them (`dense`, `dense_1`, `batch_normalization`, ...).",
      LAYER_SIGNATURES,
    ),
    GRAPHS,
    section(
      "Training: `train { ... }`",
      "Settings of the training run, all optional. `adam`, `adamw`, `sgd` and `rmsprop` may also be written " +
        "without `optimizer` (`adam lr=0.01`). Every optimizer takes `weight_decay=`, `clipnorm=`, `clipvalue=` " +
        "and `global_clipnorm=` with Keras 3's meaning and order (keras/src/optimizers/base_optimizer.py): each " +
        "step clips the gradients (at most one of the three, E330), then decays every trainable variable, " +
        "w -= w * weight_decay * lr (decoupled, as AdamW; kernels, biases and batchnorm's gamma and beta alike, " +
        "as Keras decays all trainable variables unless told otherwise; batchnorm's moving statistics are not " +
        "trained and never decay), then applies the optimizer's update. `adamw` is Adam with weight_decay " +
        "0.004 by default, as Keras' AdamW.",
      TRAIN_SIGNATURES,
    ),
    SCHEDULES_REFERENCE,
    section(
      "Experiments: `experiment NAME { ... }`",
      "A grid of training runs: every compared model times every combination of the varied settings. An " +
        "experiment block also takes any train setting, which overrides the file's `train` block for it. A grid " +
        `holds at most ${MAX_GRID_CELLS.toLocaleString("en-US")} cells` +
        " (models x each `vary` list x `repeat`; E225 otherwise), counted before " +
        "anything is expanded.",
      EXPERIMENT_SIGNATURES,
    ),
  ].join("\n");
}
