// nnc train --timings: where a run's time went, by phase, in seconds of wall time from the process's start
// (performance.timeOrigin), so a slow start shows beside the training it delays. Measured on every run (a few
// clock reads); printed only when asked.
import type { FitTimings } from "../runtime/types.ts";

/** The parts of start-up, in the order they happen. */
const STARTUP = ["loading", "spec", "backend", "model", "set-up"] as const;
type StartupPart = (typeof STARTUP)[number];

const STARTUP_NAMES: Record<StartupPart, string> = {
  loading: "node and nnc's modules",
  spec: "spec",
  backend: "backend",
  model: "model",
  "set-up": "training set-up",
};

export class RunTimings {
  private readonly startup: Record<StartupPart, number> = {
    loading: 0,
    spec: 0,
    backend: 0,
    model: 0,
    "set-up": 0,
  };
  private data = 0;
  private saving = 0;
  /** Filled in by fit (FitOptions.timings). */
  readonly fit: FitTimings = { training: 0, watch: 0, statistics: 0, evaluation: 0 };
  /** Seconds from the process's start to the end of the run's first training step. */
  private firstStep: number | undefined;

  /** Everything before this call, from the process's start: node, the launcher, nnc's modules, argv. */
  constructor() {
    this.startup.loading = performance.now() / 1000;
  }

  private add(part: StartupPart | "data" | "saving", seconds: number): void {
    if (part === "data") this.data += seconds;
    else if (part === "saving") this.saving += seconds;
    else this.startup[part] += seconds;
  }

  /**
   * Counts `seconds` spent before this object was made to the spec instead of to loading (nnc train compiles
   * its spec once before the training code loads, to start reading the data).
   */
  specBefore(seconds: number): void {
    this.startup.loading -= seconds;
    this.startup.spec += seconds;
  }

  /** Runs `fn`, counting its time to `part`. */
  time<T>(part: StartupPart | "data" | "saving", fn: () => T): T {
    const began = performance.now();
    try {
      return fn();
    } finally {
      this.add(part, (performance.now() - began) / 1000);
    }
  }

  async timeAsync<T>(part: StartupPart | "data" | "saving", fn: () => Promise<T>): Promise<T> {
    const began = performance.now();
    try {
      return await fn();
    } finally {
      this.add(part, (performance.now() - began) / 1000);
    }
  }

  /** Counts the time since `began` (a performance.now()) to `part`. */
  since(part: StartupPart, began: number): void {
    this.add(part, (performance.now() - began) / 1000);
  }

  /** Called at the end of each step: the first call marks the first step. */
  step(): void {
    this.firstStep ??= performance.now() / 1000;
  }

  /** The breakdown, as printed after a run. */
  report(): string {
    const total = performance.now() / 1000;
    const startup = STARTUP.reduce((sum, part) => sum + this.startup[part], 0);
    const rows: Array<[string, number, string?]> = [
      [
        "start-up",
        startup,
        STARTUP.map((part) => `${STARTUP_NAMES[part]} ${this.startup[part].toFixed(2)}`).join(", "),
      ],
      ["data", this.data],
      [
        "training",
        this.fit.training,
        (this.firstStep === undefined
          ? "no step ran"
          : `the first step ended ${this.firstStep.toFixed(2)} s after the process started`) +
          (this.fit.watch > 0 ? `; ${this.fit.watch.toFixed(2)} s of it recording watch` : ""),
      ],
      ["statistics", this.fit.statistics, "batch-norm population statistics"],
      ["evaluation", this.fit.evaluation],
      ["saving", this.saving, "checkpoints and the model"],
    ];
    const counted = rows.reduce((sum, [, seconds]) => sum + seconds, 0);
    rows.push(["other", Math.max(0, total - counted), "the output folder, messages and progress"]);
    rows.push(["total", total]);
    const width = Math.max(...rows.map(([name]) => name.length));
    return (
      "timings (wall time in seconds):\n" +
      rows
        .map(
          ([name, seconds, note]) =>
            `  ${name.padEnd(width)}  ${seconds.toFixed(2).padStart(6)}${note ? `  (${note})` : ""}`,
        )
        .join("\n") +
      "\n"
    );
  }
}
