// Building the IR: the language reference, rendered as markdown from the signature table (signatures.ts),
// so the README documents exactly what the builder accepts. The README author calls renderLanguageReference().
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

/** The language reference (layers, train settings, experiment settings) as markdown. */
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
    section(
      "Training: `train { ... }`",
      "Settings of the training run, all optional. `adam`, `sgd` and `rmsprop` may also be written without " +
        "`optimizer` (`adam lr=0.01`).",
      TRAIN_SIGNATURES,
    ),
    section(
      "Experiments: `experiment NAME { ... }`",
      "A grid of training runs: every compared model times every combination of the varied settings. An " +
        "experiment block also takes any train setting, which overrides the file's `train` block for it.",
      EXPERIMENT_SIGNATURES,
    ),
  ].join("\n");
}
