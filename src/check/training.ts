// Checking: the training settings that regularize and clip (issue 14's optim part) -> diagnostics: one clipping
// rule at most (E330, as Keras' base optimizer refuses more), weight decay that would flip or zero the weights
// (E331), weight decay and an l2 regularizer on the same layer (W411). Takes the IR program (its train and
// every experiment's override); gives diagnostics.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import type { Model, Optimizer, Program, Span } from "../ir/schema.ts";
import { at } from "../ops/op.ts";
import { lossTypeFor } from "../ir/loss-rules.ts";
import { withTrainOverrides } from "../ir/train-overrides.ts";

const where = (span: Span | undefined) => (span ? { span } : {});

/** The language's names of the clipping options an optimizer sets. */
function clipsOf(o: Optimizer): string[] {
  const given: [string, number | undefined][] = [
    ["clipnorm", o.clipnorm],
    ["clipvalue", o.clipvalue],
    ["global_clipnorm", o.globalClipnorm],
  ];
  return given.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
}

/** E330 and E331 for one optimizer; `span`: where the statement that made it is. */
export function checkOptimizer(o: Optimizer, span: Span | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  const clips = clipsOf(o);
  if (clips.length > 1) out.push(diagnostic("E330", { given: clips.join(" and ") }, where(span)));
  const decay = o.weightDecay ?? 0;
  // Keras decays w -= w * weight_decay * lr: at weight_decay * lr >= 1 every weight is zeroed or flips sign.
  if (decay * o.lr >= 1) {
    out.push(
      diagnostic(
        "E331",
        { decay, lr: o.lr, factor: String(+(1 - decay * o.lr).toPrecision(6)) },
        where(span),
      ),
    );
  }
  return out;
}

/** W411 for each layer of `model` with an l2 regularizer when `optimizer` decays every weight as well. */
function decayWithL2(model: Model, optimizer: Optimizer): Diagnostic[] {
  const decay = optimizer.weightDecay ?? 0;
  if (decay === 0) return [];
  return model.layers.flatMap((layer) => {
    const l2 = (layer as { l2?: number }).l2;
    if (!l2) return [];
    return [
      diagnostic("W411", { layer: layer.name, l2, decay }, at(layer, layer.argSpans?.["l2"] ?? layer.span)),
    ];
  });
}

export function checkTraining(program: Program): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const add = (ds: Diagnostic[]) => {
    for (const d of ds) {
      const key = `${d.code} ${d.message} ${d.span?.join(":")}`;
      if (!seen.has(key)) out.push(d);
      seen.add(key);
    }
  };
  add(checkOptimizer(program.train.optimizer, program.train.optimizer.span ?? program.train.span));
  // `nnc train` trains every model with the train block's optimizer; experiments with theirs (below).
  if (program.train.span !== undefined) {
    for (const model of program.models) add(decayWithL2(model, program.train.optimizer));
  }
  for (const experiment of program.experiments) {
    const train = withTrainOverrides(program.train, experiment.train);
    if (experiment.train?.optimizer)
      add(checkOptimizer(train.optimizer, train.optimizer.span ?? experiment.span));
    const smoothing = experiment.vary.find((v) => v.key === "label_smoothing");
    if (smoothing && smoothing.values.some((v) => v !== 0)) {
      for (const model of program.models.filter((m) => experiment.compare.includes(m.name))) {
        const type = lossTypeFor(model, train.loss);
        if (type === "mse")
          add([diagnostic("E332", { loss: type }, where(smoothing.span ?? experiment.span))]);
      }
    }
    const varied = experiment.vary.find((v) => v.key === "weight_decay");
    const decays = varied?.values ?? [];
    for (const d of decays) {
      if (typeof d !== "number" || d * train.optimizer.lr < 1) continue;
      const decayed = { ...train.optimizer, weightDecay: d };
      add(checkOptimizer(decayed, varied!.span ?? experiment.span).filter((x) => x.code === "E331"));
    }
    const largest = Math.max(
      train.optimizer.weightDecay ?? 0,
      ...decays.filter((v) => typeof v === "number"),
    );
    const optimizer = { ...train.optimizer, weightDecay: largest };
    for (const model of program.models.filter((m) => experiment.compare.includes(m.name)))
      add(decayWithL2(model, optimizer));
  }
  return out;
}
