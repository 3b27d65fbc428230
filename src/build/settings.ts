// Building the IR: bound train and experiment statements -> the parts of the IR's `train` and `experiment`
// objects they set. Defaults come from the signature table; the builder merges the parts.
import { defaultOptimizer } from "../ir/optimizer-defaults.ts";
import type { DataRef, Loss, Optimizer, Span, Train, Watch } from "../ir/schema.ts";
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { buildAugment } from "./augment.ts";
import type { Bound, Scalar } from "./bind.ts";
import { buildEarlyStop, buildSchedule } from "./schedule-settings.ts";
import { valueOf } from "./layers.ts";
import { signatureOf, TRAIN_SIGNATURES, type Signature } from "./signatures.ts";

export type TrainParts = Partial<Omit<Train, "span">>;

/** The defaults of every train setting, from the table (adam's lr etc. come from the optimizer rows). */
export function defaultTrain(): Omit<Train, "span"> {
  const dflt = (name: string) => TRAIN_SIGNATURES.find((s) => s.name === name)!.positional[0]!.default;
  return {
    data: { source: dflt("data") as string },
    optimizer: defaultOptimizer("adam"),
    loss: { type: dflt("loss") as Loss["type"] },
    batch: dflt("batch") as number,
    epochs: dflt("epochs") as number,
    seed: dflt("seed") as number,
    bnstats: { mode: dflt("bnstats") as Train["bnstats"]["mode"] },
    shuffle: dflt("shuffle") as boolean,
  };
}

function makeOptimizer(sig: Signature, bound: Bound, span: Span): Optimizer {
  const v = (name: string) => valueOf<number>(sig, bound, name);
  // Weight decay and clipping: only where given (absent is Keras' None), in the IR's spelling.
  const common: Partial<Record<"weightDecay" | "clipnorm" | "clipvalue" | "globalClipnorm", number>> = {};
  for (const [option, field] of [
    ["weight_decay", "weightDecay"],
    ["clipnorm", "clipnorm"],
    ["clipvalue", "clipvalue"],
    ["global_clipnorm", "globalClipnorm"],
  ] as const) {
    const given = bound.values.get(option);
    if (given !== undefined) common[field] = given as number;
  }
  switch (sig.name) {
    case "adam":
      return {
        type: "adam",
        lr: v("lr"),
        beta1: v("beta1"),
        beta2: v("beta2"),
        epsilon: v("epsilon"),
        ...common,
        span,
      };
    case "adamw":
      return {
        type: "adamw",
        lr: v("lr"),
        beta1: v("beta1"),
        beta2: v("beta2"),
        epsilon: v("epsilon"),
        ...common,
        weightDecay: v("weight_decay"),
        span,
      };
    case "sgd":
      return {
        type: "sgd",
        lr: v("lr"),
        momentum: v("momentum"),
        nesterov: valueOf<boolean>(sig, bound, "nesterov"),
        ...common,
        span,
      };
    case "rmsprop":
      return {
        type: "rmsprop",
        lr: v("lr"),
        rho: v("rho"),
        momentum: v("momentum"),
        epsilon: v("epsilon"),
        ...common,
        span,
      };
    default:
      throw new Error(`internal: '${sig.name}' is not an optimizer`);
  }
}

/** Sets the part of `train` a bound train statement describes. */
export function applyTrainSetting(
  sig: Signature,
  bound: Bound,
  span: Span,
  train: TrainParts,
  diags: Diagnostic[] = [],
): void {
  const given = (name: string) => bound.values.get(name);
  switch (sig.setting ?? sig.name) {
    case "data": {
      const data: DataRef = { source: given("SOURCE") as string };
      if (given("validation") !== undefined) data.validation = given("validation") as number;
      if (given("limit") !== undefined) data.limit = given("limit") as number;
      if (given("scale") !== undefined) data.scale = given("scale") as number;
      if (given("label") !== undefined) data.label = given("label") as string | number;
      data.span = span;
      train.data = data;
      return;
    }
    case "optimizer":
      train.optimizer = makeOptimizer(sig, bound, span);
      return;
    case "loss": {
      const loss: Loss = { type: given("LOSS") as Loss["type"] };
      if (given("from_logits") !== undefined) loss.fromLogits = given("from_logits") as boolean;
      if (given("label_smoothing") !== undefined) loss.labelSmoothing = given("label_smoothing") as number;
      loss.span = span;
      train.loss = loss;
      return;
    }
    case "class_weight": {
      const balanced = given("MODE") === "balanced";
      const pairs = [...bound.values].filter(([key]) => key !== "MODE") as [string, number][];
      if (balanced === pairs.length > 0) {
        const detail = balanced
          ? "takes balanced or class weights, not both"
          : "needs balanced or class weights";
        diags?.push(diagnostic("E232", { detail }, { span }));
        return;
      }
      train.classWeight = balanced
        ? { mode: "balanced", span }
        : { mode: "given", weights: Object.fromEntries(pairs), span };
      return;
    }
    case "batch":
    case "epochs":
    case "seed":
      train[sig.name as "batch" | "epochs" | "seed"] = given("N") as number;
      return;
    case "shuffle":
      train.shuffle = given("BOOL") as boolean;
      return;
    case "bnstats": {
      const bnstats: Train["bnstats"] = { mode: given("MODE") as Train["bnstats"]["mode"] };
      if (given("sample") !== undefined) bnstats.sample = given("sample") as number;
      train.bnstats = bnstats;
      return;
    }
    case "schedule": {
      const schedule = buildSchedule(bound, span, diags);
      if (schedule) train.schedule = schedule;
      return;
    }
    case "early_stop":
      train.earlyStop = buildEarlyStop(bound, span);
      return;
    case "init":
      train.init = {
        name: given("NAME") as NonNullable<Train["init"]>["name"],
        scale: valueOf<number>(sig, bound, "scale"),
      };
      return;
    case "augment": {
      const augment = buildAugment(bound, span, diags);
      if (augment) train.augment = augment;
      return;
    }
    case "watch": {
      const watch: Watch = {
        layer: given("LAYER") as string,
        side: valueOf<Watch["side"]>(sig, bound, "SIDE"),
        every: valueOf<number>(sig, bound, "every"),
        percentiles: [
          valueOf<number>(sig, bound, "low"),
          valueOf<number>(sig, bound, "mid"),
          valueOf<number>(sig, bound, "high"),
        ],
      };
      if (given("unit") !== undefined) watch.unit = given("unit") as number;
      watch.span = span;
      // Several statements watch several layers; the checker reports one watched twice.
      (train.watch ??= []).push(watch);
      return;
    }
    default:
      throw new Error(`internal: no IR builder for train setting '${sig.name}'`);
  }
}

/** An experiment as the builder collects it; the builder resolves defaults that depend on the whole file. */
export interface ExperimentDraft {
  name: string;
  span: Span;
  compare?: string[];
  vary: { key: string; values: (number | string)[]; span: Span }[];
  repeat?: number;
  lrScale?: { rule: "none" | "linear" | "sqrt"; ref?: number };
  target?: number;
  evalTrain?: boolean;
  train: TrainParts;
}

/** Records a bound experiment statement (compare, vary, repeat, lr_scale, target, eval_train) in the draft. */
export function applyExperimentSetting(
  sig: Signature,
  bound: Bound,
  span: Span,
  draft: ExperimentDraft,
): void {
  const given = (name: string) => bound.values.get(name);
  switch (sig.name) {
    case "compare":
      draft.compare = given("MODEL") as string[];
      return;
    case "vary":
      draft.vary.push({
        key: given("KEY") as string,
        values: (given("VALUE") as Scalar[]).map((x) => (typeof x === "boolean" ? String(x) : x)),
        span,
      });
      return;
    case "repeat":
      draft.repeat = given("N") as number;
      return;
    case "lr_scale": {
      const rule = given("RULE") as "none" | "linear" | "sqrt";
      const ref = given("ref") as number | undefined;
      draft.lrScale = ref === undefined ? { rule } : { rule, ref };
      return;
    }
    case "target":
      draft.target = given("ACC") as number;
      return;
    case "eval_train":
      draft.evalTrain = true;
      return;
    default:
      throw new Error(`internal: no IR builder for experiment setting '${sig.name}'`);
  }
}
