// Training progress for people: a live bar per epoch on a terminal (samples/s, ETA, running loss and
// accuracy), and one line per finished epoch everywhere (logs and CI get only the lines).
import cliProgress from "cli-progress";
import pc from "picocolors";
import type { BatchEvent, EpochRecord } from "../runtime/types.ts";
import type { CliIO } from "./io.ts";

const fixed = (x: number, digits = 4) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const thousands = (x: number) => Math.round(x).toLocaleString("en-US");

function formatEpochLine(record: EpochRecord, epochs: number): string {
  const parts = [
    `epoch ${String(record.epoch).padStart(String(epochs).length)}/${epochs}`,
    `loss ${fixed(record.loss)}`,
    `acc ${fixed(record.accuracy)}`,
  ];
  if (record.trainEvalAccuracy !== undefined) {
    parts.push(
      `train(inference) loss ${fixed(record.trainEvalLoss ?? NaN)} acc ${fixed(record.trainEvalAccuracy)}`,
    );
  }
  parts.push(`val_loss ${fixed(record.valLoss)}`, `val_acc ${fixed(record.valAccuracy)}`);
  // The epoch's mean rate (a schedule changes it; history.json keeps it as lr).
  if (record.lr !== undefined) parts.push(`lr ${+record.lr.toPrecision(4)}`);
  parts.push(`${record.seconds.toFixed(1)} s`, `${thousands(record.samplesPerSecond)} samples/s`);
  return parts.join("  ");
}

export class TrainingProgress {
  private bar: cliProgress.SingleBar | undefined;
  private started = 0;

  constructor(
    private readonly io: CliIO,
    private readonly epochs: number,
  ) {}

  batch(e: BatchEvent, total: number): void {
    if (!this.io.interactive || !this.io.progressStream) return;
    if (!this.bar) {
      this.started = performance.now();
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.io.progressStream,
          format: `epoch ${e.epoch}/${this.epochs} {bar} {percentage}% | {value}/{total} | {speed} samples/s | ETA {eta_formatted} | loss {loss} acc {acc}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { speed: "-", loss: "-", acc: "-" });
    }
    const seconds = (performance.now() - this.started) / 1000;
    this.bar.update(e.samples, {
      speed: seconds > 0 ? thousands(e.samples / seconds) : "-",
      loss: fixed(e.loss),
      acc: fixed(e.accuracy),
    });
  }

  epoch(record: EpochRecord): void {
    this.stop();
    const line = formatEpochLine(record, this.epochs);
    this.io.err(
      (this.io.color ? pc.bold(line.slice(0, line.indexOf("  "))) + line.slice(line.indexOf("  ")) : line) +
        "\n",
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
