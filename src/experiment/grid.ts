// Experiments, step 1: a checked program + one of its experiments -> the grid of cells to train: models x every
// vary list x repeats, each with its effective train settings (file train <- experiment train <- run options <-
// the cell's varied values, then the lr_scale rule), all distinct (E633/E634 otherwise), counted before they are
// expanded (at most MAX_GRID_CELLS, E225). Pure.
import { createHash } from "node:crypto";
import { fail } from "../diagnostics/diagnostic.ts";
import { augmentsAnything, readAugmentText, type Augment } from "../ir/augment.ts";
import { defaultOptimizer } from "../ir/optimizer-defaults.ts";
import { MAX_SEED, type Experiment, type Optimizer, type Program, type Train } from "../ir/schema.ts";
import { withTrainOverrides } from "../ir/train-overrides.ts";
import { describeEarlyStop, describeSchedule, parseScheduleText } from "../ir/schedule.ts";
import { canonicalJson, stripSpans } from "../util/canonical-json.ts";
import { varyValueText } from "./vary-value.ts";

export type VaryKey = Experiment["vary"][number]["key"];
export type VaryValue = number | string;

/** Options of a run that change every cell (quick runs from the command line). */
export interface GridOptions {
  /** Epochs per cell, over the spec's train and the experiment's (a `vary epochs` list still wins). */
  epochs?: number;
  /** Train on at most this many samples. */
  limit?: number;
}

export interface Cell {
  /** Identifies the cell by its settings (model + effective train), so a resumed run finds its finished cells. */
  id: string;
  /** Position in the grid (0-based), the order a sequential run takes. */
  index: number;
  model: string;
  /** The varied settings' values of this cell, in the experiment's `vary` order. */
  varied: Partial<Record<VaryKey, VaryValue>>;
  /** Cells of one group differ only by repeat: the unit of plots and tables. */
  group: string;
  /** 0-based repeat; the cell's seed is the base seed + repeat. */
  repeat: number;
  seed: number;
  /** Everything the cell trains with, the effective learning rate included. */
  train: Train;
  /** How the learning rate was obtained, e.g. "0.001 x 128/32 (linear)". */
  lrNote: string;
}

/** The initializer a `vary init_scale` list scales when no `init` is given: Keras' default for dense and conv. */
export const DEFAULT_INIT = "glorot_uniform";

/**
 * At most this many cells per experiment: a grid is a list of training runs kept in memory (and in results.json),
 * and `repeat 4294967295` must be refused before anything is expanded, not after the heap is exhausted.
 */
export const MAX_GRID_CELLS = 100_000;

/**
 * The number of cells an experiment expands to, counted without expanding (models x each vary list x repeat),
 * exactly (a BigInt: the factors may multiply past 2^53), and the factors in words.
 */
export function gridSize(experiment: Experiment): { cells: bigint; factors: string } {
  const models = experiment.compare.length;
  const factors = [
    `${models} model${models === 1 ? "" : "s"}`,
    ...experiment.vary.map((v) => `${v.values.length} ${v.key}`),
    `repeat ${experiment.repeat}`,
  ];
  let cells = BigInt(models) * BigInt(experiment.repeat);
  for (const vary of experiment.vary) cells *= BigInt(vary.values.length);
  return { cells, factors: factors.join(" x ") };
}

/** The E225 parameters when an experiment's grid holds more than MAX_GRID_CELLS cells, else undefined. */
export function gridTooLarge(
  experiment: Experiment,
): { experiment: string; cells: string; factors: string; limit: string } | undefined {
  const { cells, factors } = gridSize(experiment);
  if (cells <= BigInt(MAX_GRID_CELLS)) return undefined;
  const words = (n: bigint | number) => n.toLocaleString("en-US");
  return { experiment: experiment.name, cells: words(cells), factors, limit: words(MAX_GRID_CELLS) };
}

/** Every combination of the vary lists, first list slowest (as nested loops written in `vary` order). */
export function product(vary: Experiment["vary"]): Array<Partial<Record<VaryKey, VaryValue>>> {
  let combos: Array<Partial<Record<VaryKey, VaryValue>>> = [{}];
  for (const { key, values } of vary) {
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return combos;
}

/** lr at batch `batch` under a rule, from the lr at the reference batch. */
export function scaleLr(lr: number, batch: number, rule: Experiment["lrScale"]): number {
  if (rule.rule === "linear") return lr * (batch / rule.referenceBatch);
  if (rule.rule === "sqrt") return lr * Math.sqrt(batch / rule.referenceBatch);
  return lr;
}

const round = (x: number) => +x.toPrecision(6);

function lrNote(lr: number, batch: number, rule: Experiment["lrScale"]): string {
  if (rule.rule === "none" || batch === rule.referenceBatch) return String(round(lr));
  const ratio = `${batch}/${rule.referenceBatch}`;
  return rule.rule === "linear" ? `${round(lr)} x ${ratio} (linear)` : `${round(lr)} x sqrt(${ratio}) (sqrt)`;
}

/** "bn batch=128 lr=0.01": the model and the varied values; what plots and tables name a group by. */
export function groupLabel(model: string, varied: Partial<Record<VaryKey, VaryValue>>): string {
  const parts = Object.entries(varied).map(([k, v]) => `${k}=${varyValueText(v)}`);
  return [model, ...parts].join(" ");
}

/** Applies one cell's varied values to the base settings (before the lr rule). */
function applyVaried(base: Train, varied: Partial<Record<VaryKey, VaryValue>>): Train {
  const lr = (varied.lr as number | undefined) ?? base.optimizer.lr;
  const init =
    varied.init !== undefined || varied.init_scale !== undefined
      ? {
          name: (varied.init ?? base.init?.name ?? DEFAULT_INIT) as NonNullable<Train["init"]>["name"],
          scale: (varied.init_scale ?? base.init?.scale ?? 1) as number,
        }
      : undefined;
  // A varied weight decay lands on whichever optimizer the cell has (Keras: every optimizer takes it).
  const decay = varied.weight_decay === undefined ? {} : { weightDecay: varied.weight_decay as number };
  const settings = withTrainOverrides(base, {
    // A varied optimizer starts from Keras' defaults; a varied lr lands on whichever optimizer the cell has.
    optimizer:
      varied.optimizer !== undefined
        ? { ...defaultOptimizer(varied.optimizer as Optimizer["type"], lr), ...decay }
        : { lr, ...decay },
    batch: varied.batch as number | undefined,
    epochs: varied.epochs as number | undefined,
    seed: varied.seed as number | undefined,
    bnstats: { mode: varied.bnstats as Train["bnstats"]["mode"] | undefined },
    init,
    augment: varied.augment !== undefined ? variedAugment(varied.augment) : undefined,
    schedule: varied.schedule !== undefined ? variedSchedule(varied.schedule) : undefined,
    // A varied label smoothing lands on the cell's loss (the checker allows it on cross-entropies only).
    loss:
      varied.label_smoothing !== undefined
        ? { ...base.loss, labelSmoothing: varied.label_smoothing as number }
        : undefined,
  });
  return withoutEmptyAugment(settings);
}

/** The augmentation a `vary augment` value means (`{}` for none); the checker has read every value (E342). */
function variedAugment(value: VaryValue): Augment {
  const augment = readAugmentText(String(value));
  if (!augment) throw new Error(`internal: unchecked 'vary augment' value ${value}`);
  return augment;
}

/**
 * The augmentation as the cell trains with it: options that change nothing (rotate=0, flip=none) left out, and
 * no augmentation at all (`augment none`, a varied none) absent, so settings that mean the same are one cell.
 */
function withoutEmptyAugment(train: Train): Train {
  if (train.augment === undefined) return train;
  const { augment, ...rest } = train;
  if (!augmentsAnything(augment)) return rest;
  const kept = Object.fromEntries(
    Object.entries(augment).filter(([k, v]) => k !== "span" && v !== 0 && v !== "none"),
  ) as Augment;
  return { ...rest, augment: kept };
}

/** A `vary schedule` value as a schedule (the checker refused the others, E307). */
function variedSchedule(value: VaryValue): Train["schedule"] {
  const parsed = parseScheduleText(String(value));
  if ("error" in parsed) throw new Error(`internal: vary schedule ${String(value)}: ${parsed.error}`);
  return parsed.schedule;
}

/** The settings every cell starts from: the file's train, the experiment's train, then the run's options. */
export function baseSettings(program: Program, experiment: Experiment, options: GridOptions = {}): Train {
  const train = withTrainOverrides(withTrainOverrides(program.train, experiment.train), {
    epochs: options.epochs,
    data: { limit: options.limit },
  });
  return withoutEmptyAugment(stripSpans(train));
}

export function cellId(model: string, train: Train): string {
  return idOf(model, stripSpans(train));
}

/** cellId of settings that hold no source positions (a grid's: made from baseSettings), without copying them. */
function idOf(model: string, train: Train): string {
  return createHash("sha256").update(canonicalJson({ model, train })).digest("hex").slice(0, 16);
}

/** E633 for a value listed twice in one vary list (`vary batch 32 32`, `vary lr 0.01 1e-2`). */
function checkVaryLists(experiment: Experiment): void {
  for (const vary of experiment.vary) {
    const seen = new Set<string>();
    for (const value of vary.values) {
      const key = canonicalJson(value);
      if (seen.has(key)) {
        fail(
          "E633",
          { experiment: experiment.name, key: vary.key, value: String(value) },
          vary.span ? { span: vary.span } : {},
        );
      }
      seen.add(key);
    }
  }
}

/** "3 (plain seed=1, repeat 1, seed 1)": a cell as E634 names it, 1-based as progress counts cells. */
const describeCell = (c: Cell): string =>
  `${c.index + 1} (${c.group}, repeat ${c.repeat + 1}, seed ${c.seed})`;

/**
 * E634 when two cells train the same model with the same settings: they would share an id, so results.json
 * would keep one of them and --resume would take one for the other. Says which rule made them collide.
 */
function checkDistinctCells(experiment: Experiment, cells: Cell[]): void {
  const byId = new Map<string, Cell>();
  for (const cell of cells) {
    const first = byId.get(cell.id);
    if (!first) {
      byId.set(cell.id, cell);
      continue;
    }
    const seedVaries = experiment.vary.some((v) => v.key === "seed");
    const why =
      first.group === cell.group
        ? `model '${cell.model}' is compared twice`
        : seedVaries && experiment.repeat > 1
          ? `'vary seed' together with 'repeat ${experiment.repeat}' repeats seeds (repeat N trains the seed + N - 1); ` +
            "vary the seed or repeat, not both"
          : "their varied values come to the same training settings";
    fail(
      "E634",
      { experiment: experiment.name, first: describeCell(first), second: describeCell(cell), why },
      experiment.span ? { span: experiment.span } : {},
    );
  }
}

/**
 * The grid of an experiment, in the order a sequential run trains it: model, then vary lists, then repeat.
 * Every cell distinct (E633, E634): checked here, before any training, since the checker does not expand grids;
 * the grid's size (E225) is checked first, by counting.
 */
export function expandGrid(program: Program, experiment: Experiment, options: GridOptions = {}): Cell[] {
  const tooLarge = gridTooLarge(experiment);
  if (tooLarge) fail("E225", tooLarge, experiment.span ? { span: experiment.span } : {});
  checkVaryLists(experiment);
  const base = baseSettings(program, experiment, options);
  const cells: Cell[] = [];
  for (const model of experiment.compare) {
    for (const varied of product(experiment.vary)) {
      const settings = applyVaried(base, varied);
      const referenceLr = settings.optimizer.lr;
      settings.optimizer.lr = scaleLr(referenceLr, settings.batch, experiment.lrScale);
      if (settings.seed + experiment.repeat - 1 > MAX_SEED) {
        fail(
          "E635",
          { experiment: experiment.name, seed: settings.seed, repeat: experiment.repeat, max: MAX_SEED },
          experiment.span ? { span: experiment.span } : {},
        );
      }
      for (let repeat = 0; repeat < experiment.repeat; repeat++) {
        const train: Train = { ...settings, seed: settings.seed + repeat };
        cells.push({
          id: idOf(model, train),
          index: cells.length,
          model,
          varied,
          group: groupLabel(model, varied),
          repeat,
          seed: train.seed,
          train,
          lrNote: lrNote(referenceLr, train.batch, experiment.lrScale),
        });
      }
    }
  }
  checkDistinctCells(experiment, cells);
  return cells;
}

/**
 * The experiment's lr rule in words, for results and the report; with the cells' base settings, also their
 * schedule and early stopping (unless varied: each cell's group then names its schedule).
 */
export function describeLrRule(experiment: Experiment, base?: Train): string {
  const { rule, referenceBatch } = experiment.lrScale;
  const batchVaries = experiment.vary.some((v) => v.key === "batch");
  const formula = rule === "linear" ? `lr x batch/${referenceBatch}` : `lr x sqrt(batch/${referenceBatch})`;
  const scaling =
    rule === "none"
      ? batchVaries
        ? "lr_scale none: the same learning rate at every batch size"
        : "lr_scale none"
      : `lr_scale ${rule}: the learning rate is ${formula} (the train lr holds at batch ${referenceBatch})`;
  const scheduleVaries = experiment.vary.some((v) => v.key === "schedule");
  const extra = [
    base?.schedule && !scheduleVaries ? `schedule ${describeSchedule(base.schedule)}` : "",
    base?.earlyStop ? describeEarlyStop(base.earlyStop) : "",
  ].filter(Boolean);
  return [scaling, ...extra].join("; ");
}
