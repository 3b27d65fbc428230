// Experiments: progress for people. On a terminal, an overall bar (cells done of n) and one live bar per
// running cell (its epoch, samples, loss); elsewhere (logs, CI) one line per finished epoch and per finished cell.
import cliProgress from "cli-progress";
import type { CliIO } from "../cli/io.ts";
import type { BatchEvent, EpochRecord } from "../runtime/types.ts";
import type { Cell } from "./grid.ts";
import type { CellResult } from "./results-schema.ts";

const fixed = (x: number | null, digits = 4) => (x !== null && Number.isFinite(x) ? x.toFixed(digits) : "–");
const thousands = (x: number) => Math.round(x).toLocaleString("en-US");

export class ExperimentProgress {
  private multi: cliProgress.MultiBar | undefined;
  private overall: cliProgress.SingleBar | undefined;
  private bars = new Map<number, cliProgress.SingleBar>();
  private done: number;
  private readonly width: number;

  constructor(
    private readonly io: CliIO,
    private readonly total: number,
    alreadyDone: number,
  ) {
    this.done = alreadyDone;
    this.width = String(total).length;
    if (io.interactive && io.progressStream) {
      this.multi = new cliProgress.MultiBar(
        {
          stream: io.progressStream,
          hideCursor: true,
          clearOnComplete: true,
          barsize: 20,
          format: "{label} {bar} {value}/{total} {detail}",
          autopadding: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.overall = this.multi.create(total, alreadyDone, { label: "cells", detail: "" });
    }
  }

  private tag(cell: Cell): string {
    return `[${String(cell.index + 1).padStart(this.width)}/${this.total}] ${cell.group} seed ${cell.seed}`;
  }

  start(cell: Cell, slot: number, samplesPerEpoch: number): void {
    if (!this.multi) return;
    const old = this.bars.get(slot);
    if (old) this.multi.remove(old);
    this.bars.set(
      slot,
      this.multi.create(samplesPerEpoch, 0, {
        label: this.tag(cell),
        detail: `epoch 1/${cell.train.epochs}`,
      }),
    );
  }

  batch(cell: Cell, slot: number, e: BatchEvent): void {
    this.bars.get(slot)?.update(e.samples, {
      detail: `epoch ${e.epoch}/${cell.train.epochs} loss ${fixed(e.loss)} acc ${fixed(e.accuracy)}`,
    });
  }

  epoch(cell: Cell, record: EpochRecord): void {
    const line =
      `${this.tag(cell)}  epoch ${record.epoch}/${cell.train.epochs}  loss ${fixed(record.loss)}  ` +
      `val_loss ${fixed(record.valLoss)}  val_acc ${fixed(record.valAccuracy)}  ` +
      `${thousands(record.samplesPerSecond)} samples/s`;
    if (this.multi) this.multi.log(line + "\n");
    else this.io.err(line + "\n");
  }

  cellDone(cell: Cell, slot: number, result: CellResult): void {
    this.done++;
    const status =
      result.status === "diverged"
        ? `diverged: ${result.error}`
        : `val_acc ${fixed(result.final.valAccuracy)} (best ${fixed(result.bestValAccuracy)})`;
    const line =
      `cell ${this.done}/${this.total} done: ${cell.group} seed ${cell.seed}, lr ${result.lrNote}: ${status}, ` +
      `${result.seconds.toFixed(1)} s, ${thousands(result.samplesPerSecond)} samples/s`;
    if (this.multi) {
      const bar = this.bars.get(slot);
      if (bar) this.multi.remove(bar);
      this.bars.delete(slot);
      this.overall?.update(this.done);
      this.multi.log(line + "\n");
    } else {
      this.io.err(line + "\n");
    }
  }

  /** Cells running and waiting elsewhere (on a queue's workers), beside the overall bar. */
  counts(running: number, waiting: number): void {
    this.overall?.update(this.done, { detail: `running ${running}, waiting ${waiting}` });
  }

  /** A line about the run (a cell started on a worker, went back to the queue, failed). */
  note(line: string): void {
    if (this.multi) this.multi.log(line + "\n");
    else this.io.err(line + "\n");
  }

  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
  }
}
