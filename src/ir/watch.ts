// The IR of activation watching (`watch` in train, issue 19): record, every `every` training steps, percentiles
// of one layer's input or output over the current batch in training mode, as Ioffe & Szegedy (2015, Figure 1)
// plotted the 15th, 50th and 85th percentiles of a sigmoid's input. Pure: the schema and the defaults.
import { Type, type Static } from "@sinclair/typebox";
import { literals, SpanSchema } from "./common.ts";

export const WATCH_SIDES = ["input", "output"] as const;
/** The paper's percentiles, and its spacing in steps is not stated: 50 steps keeps a 10-epoch run's series readable. */
export const WATCH_DEFAULTS = { side: "input", every: 50, low: 15, mid: 50, high: 85 } as const;

const percentile = (description: string) => Type.Number({ minimum: 0, maximum: 100, description });

export const WatchSchema = Type.Object(
  {
    layer: Type.String({ minLength: 1, description: "the watched layer's name (in every model trained)" }),
    side: literals(
      WATCH_SIDES,
      "the layer's input (for an activation layer, its pre-activation) or its output",
    ),
    every: Type.Integer({ minimum: 1, description: "record every this many training steps (from step 0)" }),
    percentiles: Type.Array(percentile("a percentile in [0, 100], linear interpolation (numpy's default)"), {
      minItems: 3,
      maxItems: 3,
      description: "low, mid and high: each unit's percentiles over the batch (and positions), ascending",
    }),
    unit: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "one unit (channel) only; absent: each percentile averaged over the layer's units",
      }),
    ),
    span: Type.Optional(SpanSchema),
  },
  { additionalProperties: false },
);
export type Watch = Static<typeof WatchSchema>;

/** What one watch recorded in a run: the step of each record and its low, mid and high values. */
export const WatchSeriesSchema = Type.Object(
  {
    layer: Type.String(),
    side: literals(WATCH_SIDES, "input or output"),
    percentiles: Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }),
    unit: Type.Optional(Type.Integer({ minimum: 0 })),
    steps: Type.Array(Type.Integer({ minimum: 0 }), {
      description: "the training step each record was taken at, counted from 0 over the whole run",
    }),
    values: Type.Array(Type.Array(Type.Union([Type.Number(), Type.Null()]), { minItems: 3, maxItems: 3 }), {
      description: "per record: the low, mid and high percentiles (null where not finite: a diverged run)",
    }),
  },
  { additionalProperties: false },
);
export type WatchSeries = Static<typeof WatchSeriesSchema>;

/** How a watch is written, for messages and plots: `dense_2 input p15/50/85 every 50`. */
export const describeWatch = (w: Pick<Watch, "layer" | "side" | "unit">): string =>
  `${w.layer} ${w.side}${w.unit !== undefined ? ` unit ${w.unit}` : ""}`;
