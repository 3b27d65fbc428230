// Checking: image augmentation (`augment` in train, an experiment's train, `vary augment` values) against the
// models it trains: the input must be an image (E340), a crop smaller than its sides (E341), a vary value must
// read as an augmentation (E342); a negative factor means its magnitude (W416). Whether a flip changes what an
// image means (a 6 and a 9, text) is not something the checker can know: it does not guess.
import { parseAugmentText } from "../build/augment.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { augmentsAnything, augmentText, readAugmentText, type Augment } from "../ir/augment.ts";
import { canonicalJson } from "../util/canonical-json.ts";
import type { Model, Program, Span } from "../ir/schema.ts";

const inputShapeOf = (model: Model): number[] | undefined => {
  const first = model.layers[0];
  return first?.op === "input" ? first.shape : undefined;
};

/** E340/E341 for one augmentation over the models it trains, reported at `span`. */
function againstModels(augment: Augment, models: Model[], span: Span | undefined, out: Diagnostic[]): void {
  if (!augmentsAnything(augment)) return;
  const at = span ? { span } : {};
  for (const model of models) {
    const shape = inputShapeOf(model);
    if (!shape) continue; // no input node: E300 already
    const inputShape = shape.join("x");
    if (shape.length !== 2 && shape.length !== 3) {
      out.push(
        diagnostic(
          "E340",
          { model: model.name, inputShape },
          {
            ...at,
            help:
              "augmentation needs an image input such as `input 28x28x1` (a CSV row of pixels can feed one); " +
              "on feature vectors, drop `augment`",
          },
        ),
      );
      continue;
    }
    const side = Math.min(shape[0]!, shape[1]!);
    if (augment.crop !== undefined && augment.crop >= side) {
      out.push(
        diagnostic(
          "E341",
          { crop: augment.crop, model: model.name, inputShape },
          {
            ...at,
            help: `use crop=${Math.max(1, Math.floor(side / 8))} or so (CIFAR's 32x32 images take crop=4)`,
          },
        ),
      );
    }
  }
}

/** W416 for each negative factor. */
function negativeFactors(augment: Augment, span: Span | undefined, out: Diagnostic[]): void {
  for (const key of ["rotate", "zoom", "translate"] as const) {
    const value = augment[key];
    if (value !== undefined && value < 0) out.push(diagnostic("W416", { key, value }, span ? { span } : {}));
  }
}

export function checkAugment(program: Program, trained: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  const base = program.train.augment;
  if (base) {
    negativeFactors(base, base.span, out);
    if (trained) againstModels(base, program.models, base.span ?? program.train.span, out);
  }
  for (const experiment of program.experiments) {
    const compared = program.models.filter((m) => experiment.compare.includes(m.name));
    const own = experiment.train?.augment;
    if (own) {
      negativeFactors(own, own.span, out);
      againstModels(own, compared, own.span ?? experiment.span, out);
    }
    const vary = experiment.vary.find((v) => v.key === "augment");
    if (!vary) continue;
    for (const value of vary.values) {
      const where = vary.span ?? experiment.span;
      const at = where ? { span: where } : {};
      const text = typeof value === "string" ? value : String(value);
      const read = parseAugmentText(text);
      if ("error" in read) {
        out.push(
          diagnostic(
            "E342",
            { value: JSON.stringify(text), reason: read.error },
            {
              ...at,
              help: 'write none, or the options of an augment statement in quotes: "flip=horizontal crop=2"',
            },
          ),
        );
        continue;
      }
      // Experiments read values without the grammar (src/experiment imports no builder): both must agree.
      const plain = readAugmentText(text);
      if (!plain || canonicalJson(plain) !== canonicalJson(read.augment)) {
        out.push(
          diagnostic(
            "E342",
            {
              value: JSON.stringify(text),
              reason: "write the options as plain key=value words separated by spaces",
            },
            { ...at, help: `e.g. "${augmentText(read.augment)}"` },
          ),
        );
        continue;
      }
      negativeFactors(read.augment, where, out);
      againstModels(read.augment, compared, where, out);
    }
  }
  return out;
}
