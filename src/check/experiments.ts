// Checking: experiments refer to models that exist (E305), vary settings over values of the right type (E307),
// each setting at most once (E308), and hold at most MAX_GRID_CELLS cells (E225, counted, not expanded: the
// grid itself is expanded only by nnc experiment and nnc check). Takes the IR program; gives diagnostics.
import { diagnostic, didYouMean, type Diagnostic } from "../diagnostics/index.ts";
import { gridTooLarge } from "../experiment/grid.ts";
import { BNSTATS, INITIALIZERS, MAX_SEED, OPTIMIZERS, type Experiment, type Program } from "../ir/schema.ts";
import { parseScheduleText, SCHEDULES } from "../ir/schedule.ts";

type VaryKey = Experiment["vary"][number]["key"];

/** What each varied setting accepts: a test and the words for the message. */
const VARY_TYPES: Record<
  VaryKey,
  {
    ok: (v: number | string) => boolean;
    expected: string;
    words?: readonly string[];
    /** Why a value is not accepted, where the expectation alone does not say. */
    why?: (v: number | string) => string | undefined;
  }
> = {
  batch: {
    ok: (v) => Number.isSafeInteger(v) && (v as number) >= 1,
    expected: "a positive integer (a batch size)",
  },
  lr: { ok: (v) => typeof v === "number" && v > 0, expected: "a positive number (a learning rate)" },
  optimizer: {
    ok: (v) => (OPTIMIZERS as readonly unknown[]).includes(v),
    expected: `an optimizer (${OPTIMIZERS.join(", ")})`,
    words: OPTIMIZERS,
  },
  // Safe integers, as the builder takes counts (1e300 is an integer too, but no count nnc can run).
  epochs: {
    ok: (v) => Number.isSafeInteger(v) && (v as number) >= 1,
    expected: "a positive integer (epochs)",
  },
  bnstats: {
    ok: (v) => (BNSTATS as readonly unknown[]).includes(v),
    expected: `a bnstats mode (${BNSTATS.join(", ")})`,
    words: BNSTATS,
  },
  seed: {
    ok: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_SEED,
    expected: `an integer in [0, ${MAX_SEED}] (a 32-bit seed)`,
  },
  init: {
    ok: (v) => (INITIALIZERS as readonly unknown[]).includes(v),
    expected: `an initializer (${INITIALIZERS.join(", ")})`,
    words: INITIALIZERS,
  },
  init_scale: {
    ok: (v) => typeof v === "number" && v > 0,
    expected: "a positive number (an initializer scale)",
  },
  weight_decay: {
    ok: (v) => typeof v === "number" && v >= 0,
    expected: "a number >= 0 (a weight decay)",
  },
  label_smoothing: {
    ok: (v) => typeof v === "number" && v >= 0 && v <= 1,
    expected: "a number in [0, 1] (a label smoothing)",
  },
  // Each value read as an augment statement's options: src/check/augment.ts (E342), not here.
  augment: { ok: () => true, expected: 'none or augment options in quotes ("flip=horizontal crop=2")' },
  schedule: {
    ok: (v) => typeof v === "string" && "schedule" in parseScheduleText(v),
    expected: `a schedule: a name (${SCHEDULES.join(", ")}) or one with options, quoted ("step every=2 factor=0.5")`,
    why: (v) => {
      const parsed = parseScheduleText(String(v));
      return "error" in parsed ? parsed.error : undefined;
    },
  },
};

export function checkExperiments(program: Program): Diagnostic[] {
  const out: Diagnostic[] = [];
  const models = program.models.map((m) => m.name);
  for (const experiment of program.experiments) {
    const at = experiment.span ? { span: experiment.span } : {};
    const tooLarge = gridTooLarge(experiment);
    if (tooLarge) out.push(diagnostic("E225", tooLarge, at));
    for (const name of experiment.compare) {
      if (models.includes(name)) continue;
      const help = didYouMean(name, models);
      out.push(diagnostic("E305", { name, known: models.join(", ") }, help ? { ...at, help } : at));
    }
    const varied = new Set<string>();
    for (const vary of experiment.vary) {
      const where = vary.span ? { span: vary.span } : at;
      if (varied.has(vary.key)) {
        out.push(diagnostic("E308", { key: vary.key }, where));
        continue;
      }
      varied.add(vary.key);
      const type = VARY_TYPES[vary.key];
      for (const value of vary.values) {
        if (type.ok(value)) continue;
        const help =
          typeof value === "string" && type.words ? didYouMean(value, type.words) : type.why?.(value);
        // 1e300 is an integer too: say which ones a count may be.
        const count = vary.key === "batch" || vary.key === "epochs";
        const unsafe = count && Number.isInteger(value) && !Number.isSafeInteger(value);
        const expected = unsafe ? `${type.expected}, at most ${Number.MAX_SAFE_INTEGER}` : type.expected;
        out.push(
          diagnostic(
            "E307",
            { key: vary.key, value: String(value), expected },
            help ? { ...where, help } : where,
          ),
        );
      }
    }
  }
  return out;
}
