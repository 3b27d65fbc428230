// Checking: the training settings that regularize and clip (issue 14's optim part) -> diagnostics: one clipping
// rule at most (E330, as Keras' base optimizer refuses more), weight decay that would flip or zero the weights
// (E331). Takes the IR program (its train and every experiment's override); gives diagnostics.
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import type { Optimizer, Program, Span } from "../ir/schema.ts";
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
function checkOptimizer(o: Optimizer, span: Span | undefined): Diagnostic[] {
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
  for (const experiment of program.experiments) {
    if (!experiment.train?.optimizer) continue;
    const train = withTrainOverrides(program.train, experiment.train);
    add(checkOptimizer(train.optimizer, train.optimizer.span ?? experiment.span));
  }
  return out;
}
