// Checking against the data: each model a spec trains, with the settings it trains with (the train block's,
// and every experiment's, for every batch size it varies), against what its data source holds, so `nnc
// check` says before any training what `nnc train` or `nnc experiment` would refuse: fewer output units than
// classes (E320), an input the samples cannot feed (E321), batch normalization over one value (E322, a batch
// of one), a hold-out that leaves nothing (E511, E519); and warns of a last batch of one sample (W408) and
// linear logits that are not one per class (W409).
//
// The data is described by its metadata (src/data/metadata.ts: shape, classes, sample counts; read from
// headers and label files, never the samples). `checkDataFit` is pure, given the metadata; `checkData` reads
// the metadata of every source a program names and runs it. compile() stays pure (no file system): checking
// against data is this separate, asynchronous step, which `nnc check` and the API's checkData() take.
import { diagnostic, NncError, type Diagnostic, type RelatedPlace } from "../diagnostics/index.ts";
import { trainingSamples } from "../data/hold-out.ts";
import { outputClasses } from "../data/labels.ts";
import { readDataMetadata, type DataMetadata } from "../data/metadata.ts";
import { acceptedInputShapes, compatibleShapes, formatShape } from "../data/shapes.ts";
import { outputNode } from "../ir/graph.ts";
import { autoLossWarning, outputActivation } from "../ir/loss-rules.ts";
import type { DataRef, Layer, Model, Program, Span, Train } from "../ir/schema.ts";
import { withTrainOverrides } from "../ir/train-overrides.ts";
import { sizeOf } from "../util/shape.ts";

/** One way a program trains models: the settings, the batch sizes, and where (for messages). */
interface Training {
  models: Model[];
  train: Train;
  /** Batch sizes trained with, with the `vary batch` line that lists them, where one does. */
  batches: { batch: number; span?: Span }[];
  /** ", in experiment 'e'" or "" for the train block. */
  where: string;
  experiment?: string;
  /** Where the data setting is, or the block that trains on the default data. */
  dataPlace?: { span: Span; what: (fact: string) => string };
}

/**
 * What a program trains: every model with the train block, where the file has one (a file of models alone
 * trains nothing yet, as for the loss), and each experiment's compared models with its settings.
 */
function trainings(program: Program): Training[] {
  const out: Training[] = [];
  const place = (train: Train, fallback: Span | undefined): Training["dataPlace"] => {
    const span = train.data.span ?? fallback;
    if (!span) return undefined;
    const source = train.data.source;
    const what = train.data.span
      ? (fact: string) => `data '${source}', which has ${fact}, is set`
      : (fact: string) =>
          `the default data '${source}' (no data setting), which has ${fact}, is trained on by the block`;
    return { span, what };
  };
  if (program.train.span !== undefined) {
    const base = {
      models: program.models,
      train: program.train,
      batches: [{ batch: program.train.batch }],
      where: "",
    };
    const dataPlace = place(program.train, program.train.span);
    out.push(dataPlace ? { ...base, dataPlace } : base);
  }
  for (const experiment of program.experiments) {
    const train = withTrainOverrides(program.train, experiment.train);
    const vary = experiment.vary.find((v) => v.key === "batch");
    const batches = vary
      ? vary.values
          .filter((v): v is number => Number.isInteger(v) && (v as number) >= 1)
          .map((batch) => (vary.span ? { batch, span: vary.span } : { batch }))
      : [{ batch: train.batch }];
    const base = {
      models: program.models.filter((m) => experiment.compare.includes(m.name)),
      train,
      batches,
      where: `, in experiment '${experiment.name}'`,
      experiment: experiment.name,
    };
    const dataPlace = place(train, program.train.span ?? experiment.span);
    out.push(dataPlace ? { ...base, dataPlace } : base);
  }
  return out;
}

const at = (layer: Layer | undefined, model: Model): { span?: Span } => {
  const span = layer?.span ?? model.span;
  return span ? { span } : {};
};

/** The diagnostics of one training against its data's metadata. */
function fitOne(t: Training, meta: DataMetadata, diags: Diagnostic[]): void {
  const ref = t.train.data;
  const related = (message: string): { related?: RelatedPlace[] } =>
    t.dataPlace ? { related: [{ span: t.dataPlace.span, message: t.dataPlace.what(message) }] } : {};
  const classes = meta.numClasses;
  // The checker resolves `loss auto` in the IR where it can: no `loss` line (no span) is what auto looks like then.
  const autoLoss = t.train.loss.type === "auto" || t.train.loss.span === undefined;
  let samples: number | undefined;
  try {
    samples = meta.final
      ? meta.trainCount
      : trainingSamples(ref, meta.trainCount, meta.testCount !== undefined);
  } catch (e) {
    if (!(e instanceof NncError)) throw e;
    diags.push(e.diagnostic); // the hold-out leaves nothing (E511, E519), at the data setting
  }
  checkValidationWatched(t, meta, diags, related);
  // class_weight 5=2.0 on a data set of classes 0..3 weighs nothing: a typo or the wrong data.
  const weights = t.train.classWeight?.mode === "given" ? t.train.classWeight.weights : {};
  const beyond = Object.keys(weights).filter((k) => Number(k) >= classes);
  if (beyond.length > 0) {
    const span = t.train.classWeight?.span;
    const where = t.where;
    const params = { classes: beyond.join(", "), source: ref.source, count: classes, where };
    diags.push(diagnostic("E333", params, { ...(span ? { span } : {}), ...related(`${classes} classes`) }));
  }
  for (const model of t.models) {
    const input = model.layers[0];
    const output = outputNode(model);
    const shape = output?.outputShape;
    if (!input || !output || !shape) continue; // not checked (its own errors say why)
    if (input.op === "input" && !compatibleShapes(meta.sampleShape, input.shape)) {
      diags.push(
        diagnostic(
          "E321",
          {
            model: model.name,
            inputShape: formatShape(input.shape),
            source: ref.source,
            dataShape: formatShape(meta.sampleShape),
          },
          {
            ...at(input, model),
            ...related(`samples of shape ${formatShape(meta.sampleShape)}`),
            help: `declare the input as one of ${acceptedInputShapes(meta.sampleShape).join(", ")}`,
          },
        ),
      );
    }
    const told = outputClasses(model);
    if (shape.length === 2 && told !== undefined && told < classes) {
      const units = shape[1]!;
      const telling = units === 1 ? "one unit tells 2 classes apart" : `one per class: ${units} classes`;
      diags.push(
        diagnostic(
          "E320",
          { model: model.name, units, telling, source: ref.source, classes },
          {
            ...at(output, model),
            ...related(`${classes} classes`),
            help: `end the model with 'dense ${classes} softmax' (one unit per class)`,
          },
        ),
      );
    } else if (autoLoss && shape.length === 2) {
      const why = autoLossWarning(outputActivation(model), shape[1], { count: classes, source: ref.source });
      // The data-free reasons (a relu output...) are the checker's already (src/check/loss.ts).
      if (why && outputActivation(model) === "linear") {
        diags.push(
          diagnostic(
            "W409",
            { loss: "sparse_categorical_crossentropy", model: model.name, why },
            { ...at(output, model), ...related(`${classes} classes`) },
          ),
        );
      }
    }
    if (samples !== undefined) checkBatches(t, samples, model, diags, related);
  }
}

/** Batch normalization over one value per channel (E322), and the last batch of one it needs merged (W408). */
function checkBatches(
  t: Training,
  samples: number,
  model: Model,
  diags: Diagnostic[],
  related: (message: string) => { related?: RelatedPlace[] },
): void {
  // Values per channel per sample: the spatial positions (outputShape is [batch, ...spatial, channels]).
  const single = model.layers.filter(
    (l) => l.op === "batchnorm" && l.outputShape && sizeOf(l.outputShape.slice(1, -1)) < 2,
  );
  if (single.length === 0) return;
  const layer = single[0]!;
  for (const { batch, span } of t.batches) {
    // Built only for a diagnostic: toLocaleString's first call loads ICU's data (~15 ms of `nnc check`).
    const extras = () => {
      const place = span ? [{ span, message: `batch ${batch} is listed` }] : [];
      const data = related(`${samples.toLocaleString("en-US")} training samples an epoch`).related ?? [];
      return { ...at(layer, model), related: [...place, ...data] };
    };
    const params = { layer: layer.name, batch, samples, where: t.where };
    if (Math.min(batch, samples) <= 1) {
      diags.push(diagnostic("E322", { ...params, model: model.name }, extras()));
    } else if (samples % batch === 1) {
      diags.push(diagnostic("W408", params, extras()));
    }
  }
}

/**
 * E337: early stopping or a plateau schedule watches the validation metrics, and without `validation=` a source
 * with a test set validates on it (src/data/hold-out.ts, planHoldOut), so the test set would choose the epochs.
 * A source without a test set holds out validation data by default: nothing to say then.
 */
function checkValidationWatched(
  t: Training,
  meta: DataMetadata,
  diags: Diagnostic[],
  related: (message: string) => { related?: RelatedPlace[] },
): void {
  const watchers: { what: string; span: Span | undefined }[] = [];
  if (t.train.earlyStop) watchers.push({ what: "early_stop", span: t.train.earlyStop.span });
  if (t.train.schedule?.type === "plateau")
    watchers.push({ what: "schedule plateau", span: t.train.schedule.span });
  if (watchers.length === 0 || meta.final || meta.testCount === undefined) return;
  if (t.train.data.validation !== undefined) return;
  for (const { what, span } of watchers) {
    const at = span ?? t.train.span;
    diags.push(
      diagnostic(
        "E337",
        { what, source: t.train.data.source, where: t.where },
        {
          ...(at ? { span: at } : {}),
          ...related("a test set and no validation= hold-out"),
          help: `hold out validation data from the training set: data ${t.train.data.source} validation=0.1`,
        },
      ),
    );
  }
}

const dataKey = (ref: DataRef): string => JSON.stringify([ref.source, ref.label ?? null]);

/**
 * Every training of `program` against its data's metadata (`metadataFor` gives undefined where the data is not
 * known: nothing is said then). `experiment` limits it to one experiment's cells (what `nnc experiment` runs).
 * Pure. Each problem once, however many trainings share it.
 */
export function checkDataFit(
  program: Program,
  metadataFor: (ref: DataRef) => DataMetadata | undefined,
  options: { experiment?: string } = {},
): Diagnostic[] {
  const diags: Diagnostic[] = [];
  for (const t of trainings(program)) {
    if (options.experiment !== undefined && t.experiment !== options.experiment) continue;
    const meta = metadataFor(t.train.data);
    if (meta) fitOne(t, meta, diags);
  }
  return unique(diags);
}

function unique(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const key = `${d.code} ${d.span?.join(":")} ${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Data that is simply not on this machine (a Debian package, a folder): a warning, since the spec is fine. */
const NOT_HERE = new Set(["E501", "E502"]);

/**
 * Reads the metadata of every data source `program` names (paths relative to `baseDir`, the spec's folder) and
 * checks every training against it (checkDataFit). A source that cannot be read is one diagnostic at its data
 * setting: an unknown source, a bad option or a malformed file an error, data missing on this machine a
 * warning (then nothing more is said of it). Diagnostics carry spans into the spec, not yet located.
 */
export async function checkData(program: Program, options: { baseDir?: string } = {}): Promise<Diagnostic[]> {
  const refs: DataRef[] = [program.train.data];
  for (const experiment of program.experiments) {
    refs.push(withTrainOverrides(program.train, experiment.train).data);
  }
  const metadata = new Map<string, DataMetadata | undefined>();
  const diags: Diagnostic[] = [];
  const said = new Set<string>();
  for (const ref of refs) {
    const key = dataKey(ref);
    if (metadata.has(key)) continue;
    try {
      metadata.set(key, await readDataMetadata(ref, options));
    } catch (e) {
      if (!(e instanceof NncError)) throw e;
      metadata.set(key, undefined);
      // Missing data is a warning here, under its own W code (an E code is always an error); the error's
      // words (what was looked for, how to install it) stay in the message.
      const d: Diagnostic = NOT_HERE.has(e.diagnostic.code)
        ? diagnostic(
            "W530",
            { detail: e.diagnostic.message },
            { help: e.diagnostic.help, notes: e.diagnostic.notes },
          )
        : { ...e.diagnostic };
      // The file's own place (a CSV line) is in the message; the spec's place is the data setting.
      if (ref.span) d.span = ref.span;
      if (!said.has(d.message)) diags.push(d); // data missing here is said once, however often it is named
      said.add(d.message);
    }
  }
  diags.push(...checkDataFit(program, (ref) => metadata.get(dataKey(ref))));
  return unique(diags);
}
