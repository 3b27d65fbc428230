// Checking: learning-rate schedules and early stopping against the run they are in (the train block's, and every
// experiment's, for every `vary epochs` and `vary schedule` value): a rate that falls to 0 in effect before the
// last epoch (E335), a warm-up as long as the run (E336), early stopping or a plateau schedule that cannot act
// within the run (W413, W414). Whether there is validation data to watch is a question for the data
// (src/check/data-fit.ts, E337). A floor (min) not below the starting rate (W415).
import { diagnostic, type Diagnostic } from "../diagnostics/index.ts";
import { describeSchedule, parseScheduleText, type Schedule } from "../ir/schedule.ts";
import type { Program, Span, Train } from "../ir/schema.ts";
import { withTrainOverrides } from "../ir/train-overrides.ts";
import { LearningRate } from "../ir/learning-rate.ts";

/** A rate below the start's 2^-24 changes no float32 weight that the starting rate changes by one unit. */
const NO_LONGER_TRAINS = 2 ** -24;

interface Run {
  train: Train;
  where: string;
  /** Where a varied value is listed (the diagnostic goes there when the spec's setting is not the cause). */
  varied?: Span;
  /** `where` without the varied schedule (early stopping does not depend on it). */
  stopWhere: string;
}

/**
 * What a command line changes in the settings a spec trains with: `nnc train --epochs --lr` (the train block's run)
 * or `nnc experiment NAME --epochs` (that experiment's cells; a `vary epochs` list still wins, as in grid.ts).
 */
export interface CommandLineRun {
  epochs?: number;
  lr?: number;
  /** The experiment run; the train block's run without it. */
  experiment?: string;
}

/** `, with --epochs 2 on the command line`: where a diagnostic on overridden settings comes from. */
function commandLineWhere(cli: CommandLineRun): string {
  if (cli.epochs === undefined && cli.lr === undefined) return "";
  const flags = [
    cli.epochs !== undefined ? `--epochs ${cli.epochs}` : "",
    cli.lr !== undefined ? `--lr ${cli.lr}` : "",
  ].filter(Boolean);
  return `, with ${flags.join(" ")} on the command line`;
}

/**
 * Every (settings, place) a program trains with, `vary epochs` and `vary schedule` expanded; with `cli`, only the
 * run that command line starts, with its values.
 */
function runs(program: Program, cli?: CommandLineRun): Run[] {
  const out: Run[] = [];
  const flags = cli ? commandLineWhere(cli) : "";
  const overridden = (train: Train): Train =>
    cli ? withTrainOverrides(train, { epochs: cli.epochs, optimizer: { lr: cli.lr } }) : train;
  if (cli ? cli.experiment === undefined : program.train.span !== undefined)
    out.push({ train: overridden(program.train), where: flags, stopWhere: flags });
  // A `vary epochs` list wins over --epochs (grid.ts): such an experiment's cells are the spec's, checked already.
  const experiments = cli
    ? program.experiments.filter(
        (e) => e.name === cli.experiment && !e.vary.some((v) => v.key === "epochs" && cli.lr === undefined),
      )
    : program.experiments;
  for (const experiment of experiments) {
    const base = overridden(withTrainOverrides(program.train, experiment.train));
    const where = `, in experiment '${experiment.name}'${flags}`;
    const epochs = experiment.vary.find((v) => v.key === "epochs");
    const schedules = experiment.vary.find((v) => v.key === "schedule");
    const epochList = (epochs?.values ?? [base.epochs]).filter(
      (e): e is number => Number.isSafeInteger(e) && (e as number) >= 1,
    );
    const scheduleList: { schedule: Schedule | undefined; text?: string }[] = schedules
      ? schedules.values.flatMap((v) => {
          const parsed = parseScheduleText(String(v));
          return "schedule" in parsed ? [{ schedule: parsed.schedule, text: String(v) }] : [];
        })
      : [{ schedule: base.schedule }];
    for (const e of epochList) {
      for (const { schedule, text } of scheduleList) {
        const train: Train = { ...base, epochs: e };
        if (schedule) train.schedule = schedule;
        else delete train.schedule;
        const parts = [epochs ? `epochs ${e}` : "", text !== undefined ? `schedule ${text}` : ""].filter(
          Boolean,
        );
        const span = (text !== undefined ? schedules?.span : undefined) ?? (epochs ? epochs.span : undefined);
        out.push({
          train,
          where: where + (parts.length ? ` (vary ${parts.join(", ")})` : ""),
          stopWhere: where + (epochs ? ` (vary epochs ${e})` : ""),
          ...(span ? { varied: span } : {}),
        });
      }
    }
  }
  return out;
}

/**
 * E335, E336, W413, W414 for a program's runs; with `cli`, for the run a command line starts with its --epochs and
 * --lr (the spec's own values were checked when it compiled).
 */
export function checkSchedules(program: Program, cli?: CommandLineRun): Diagnostic[] {
  const out: Diagnostic[] = [];
  const said = new Set<string>();
  for (const run of runs(program, cli)) {
    const { train, where } = run;
    const schedule = train.schedule;
    const at = (own: Span | undefined) => {
      const span = run.varied ?? own ?? train.span;
      return span ? { span } : {};
    };
    if (schedule) {
      const warmup = schedule.warmup ?? 0;
      if (warmup >= train.epochs) {
        out.push(diagnostic("E336", { warmup, epochs: train.epochs, where }, at(schedule.span)));
      } else {
        const rates = new LearningRate(schedule, train.optimizer.lr, {
          epochs: train.epochs,
          stepsPerEpoch: 1,
        });
        const epoch = firstEpochBelow(
          (e) => rates.at(e, 1),
          train.optimizer.lr * NO_LONGER_TRAINS,
          warmup + 1,
          train.epochs,
        );
        if (epoch !== undefined) {
          out.push(
            diagnostic(
              "E335",
              {
                schedule: describeSchedule(schedule),
                value: String(+rates.at(epoch, 1).toPrecision(3)),
                epoch,
                epochs: train.epochs,
                where,
              },
              { ...at(schedule.span), help: "decay less (a larger factor or rate, or a longer every=)" },
            ),
          );
        }
        if (
          (schedule.type === "cosine" || schedule.type === "plateau") &&
          schedule.min >= train.optimizer.lr
        ) {
          // Keras takes both: CosineDecay with alpha > 1 rises to min; ReduceLROnPlateau never lowers a rate
          // at or below min_lr. Either way the run does not decay, which is what the line asked for.
          const effect =
            schedule.type === "cosine"
              ? schedule.min > train.optimizer.lr
                ? "the rate rises to min over the run instead of decaying"
                : "the rate stays constant"
              : "the rate is never lowered";
          out.push(
            diagnostic(
              "W415",
              {
                schedule: schedule.type,
                min: schedule.min,
                lr: train.optimizer.lr,
                effect,
                where,
              },
              {
                ...at(schedule.span),
                help: `min is the rate the schedule ends at or never goes below: give a value below ${train.optimizer.lr}`,
              },
            ),
          );
        }
        if (schedule.type === "plateau") {
          // The first watched epoch sets the best; `patience` more without improvement lower the rate after it.
          const first = warmup + 1 + schedule.patience;
          if (first >= train.epochs) {
            out.push(
              diagnostic(
                "W414",
                { patience: schedule.patience, epochs: train.epochs, first, where },
                at(schedule.span),
              ),
            );
          }
        }
      }
    }
    const stop = train.earlyStop;
    if (stop) {
      // Keras: the best so far, then `patience` epochs without improvement; never after the first epoch.
      const first = Math.max(2, stop.patience + 1);
      // Said once per run length: the schedules varied beside it do not change it.
      const key = `${train.epochs} ${run.stopWhere}`;
      if (first >= train.epochs && !said.has(key)) {
        said.add(key);
        out.push(
          diagnostic("W413", { patience: stop.patience, epochs: train.epochs, first, where }, at(stop.span)),
        );
      }
    }
  }
  return out;
}

/**
 * The first epoch in [first, last] whose rate is below `floor`, in O(log epochs) steps: a run may be told to train
 * for 2^31 epochs, and visiting each took a minute. After its warm-up every schedule rises, then falls (constant,
 * step, exponential and cosine only fall or only rise; onecycle rises to its peak first; plateau is constant
 * before any data). So when the first epoch is above the floor, the rising part is too, and once the falling part
 * goes below it stays below: "below the floor" is false, then true, along the epochs, and a bisection finds where
 * it turns.
 */
export function firstEpochBelow(
  rate: (epoch: number) => number,
  floor: number,
  first: number,
  last: number,
): number | undefined {
  if (last < first) return undefined;
  if (rate(first) < floor) return first;
  if (!(rate(last) < floor)) return undefined;
  // rate(lo) >= floor, rate(hi) < floor, and every epoch between lo and the answer is above the floor.
  let lo = first;
  let hi = last;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (rate(mid) < floor) hi = mid;
    else lo = mid;
  }
  return hi;
}
