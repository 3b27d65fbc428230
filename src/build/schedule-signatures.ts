// Building the IR: the `schedule` and `early_stop` train statements (src/ir/schedule.ts has their IR). One
// signature carries every schedule's options; the builder (settings.ts, buildSchedule) says which belong to
// which schedule.
import { EARLY_STOP_DEFAULTS, MONITORS, SCHEDULE_OPTIONS, SCHEDULES } from "../ir/schedule.ts";
import { bool, int, num, oneOf, positive, type ParamSpec, type Signature } from "../ops/signature.ts";

const forSchedules = (key: string) =>
  SCHEDULES.filter((s) => key in SCHEDULE_OPTIONS[s])
    .map((s) => {
      const d = SCHEDULE_OPTIONS[s][key];
      return d === undefined ? s : `${s} (default ${d})`;
    })
    .join(", ");

const option = (name: string, type: ParamSpec["type"], doc: string): ParamSpec => ({
  name,
  type,
  doc: `${doc}; for ${forSchedules(name)}`,
  field: name,
});

export const SCHEDULE_SIGNATURES: Signature[] = [
  {
    name: "schedule",
    context: "train",
    doc:
      "the learning rate over the run, from the optimizer's lr (Keras formulas: docs/language.md, Learning-rate " +
      "schedules): constant; step (x factor every `every` epochs); exponential (x rate per epoch); cosine " +
      "(Keras CosineDecay over the whole run, per step, down to min); onecycle (up to max over 30% of the steps, " +
      "then down, per step); plateau (Keras ReduceLROnPlateau on val_loss). The rate of each epoch is in " +
      "history.json (lr) and the epoch line",
    positional: [
      {
        name: "NAME",
        type: oneOf(SCHEDULES, "NAME"),
        doc: SCHEDULES.join(", "),
        required: true,
        field: "type",
      },
    ],
    options: [
      option("every", int(), "epochs between multiplications"),
      option("factor", num({ min: 0 }), "multiplier of the rate (plateau: in (0, 1))"),
      option("rate", num(positive), "multiplier of the rate per epoch"),
      option("min", num({ min: 0 }), "the lowest rate"),
      option("max", num(positive), "the peak rate (default: the optimizer's lr)"),
      option("patience", int(), "epochs without an improvement of val_loss (by 1e-4) before the rate is cut"),
      {
        name: "warmup",
        type: int(0),
        doc: "epochs of linear warm-up from 0 to the schedule's first rate, before it (any schedule)",
        default: 0,
        field: "warmup",
      },
    ],
  },
  {
    name: "early_stop",
    context: "train",
    doc:
      "stop when the monitored validation metric has not improved for `patience` epochs (Keras EarlyStopping); " +
      "needs validation data (data ... validation=F), not the test set",
    positional: [],
    options: [
      {
        name: "monitor",
        type: oneOf(MONITORS),
        doc: MONITORS.join(" or "),
        default: EARLY_STOP_DEFAULTS.monitor,
        field: "monitor",
      },
      {
        name: "patience",
        type: int(0),
        doc: "epochs without improvement before stopping",
        default: EARLY_STOP_DEFAULTS.patience,
        field: "patience",
      },
      {
        name: "min_delta",
        type: num({ min: 0 }),
        doc: "the least change that counts as an improvement",
        default: EARLY_STOP_DEFAULTS.minDelta,
        field: "minDelta",
      },
      {
        name: "restore",
        type: bool,
        doc: "save the best epoch's weights and batchnorm statistics as the model, not the last epoch's",
        default: EARLY_STOP_DEFAULTS.restore,
        field: "restore",
      },
    ],
  },
];
